// Metrics as the reconciler reports them: each pass and each flip result. The Prometheus registry is
// one implementation (api/metrics.ts); nothing at all is another.

export interface Observer {
  pass(durationMs: number, ok: boolean): void;
  flip(app: string, durationMs: number, ok: boolean): void;
}
