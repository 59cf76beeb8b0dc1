// Metrics as the reconciler reports them: each pass and each flip result. The Prometheus registry is
// one implementation (api/metrics.ts); nothing at all is another.

export interface Observer {
  pass(durationMs: number, ok: boolean): void;
  flip(app: string, durationMs: number, ok: boolean): void;
  /** A promotion stopped by the app's smoke checks (before the flip) or its guard (a flip undone). */
  promotionStopped(app: string, reason: 'ChecksFailed' | 'GuardFailed'): void;
}
