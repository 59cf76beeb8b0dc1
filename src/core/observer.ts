// Metrics as the reconciler reports them: each fetch, each pass and each flip result. The Prometheus registry is
// one implementation (api/metrics.ts); nothing at all is another.

export interface Observer {
  /** How long the source took to answer (the newest commit; fetched too when it is new). */
  fetched(durationMs: number): void;
  pass(durationMs: number, ok: boolean): void;
  flip(app: string, durationMs: number, ok: boolean): void;
  /** A promotion stopped by the app's smoke checks (before the flip) or its guard (a flip undone). */
  promotionStopped(app: string, reason: 'ChecksFailed' | 'GuardFailed'): void;
}
