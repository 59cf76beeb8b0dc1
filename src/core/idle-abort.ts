// A deadline that moves with progress: for streams (a git fetch, an image pull) that may take long but
// must not go silent. Real timers: only the adapters around external services use it.

export interface IdleAbort {
  /** Aborted, with the given reason, once `ms` passed without a touch(). */
  readonly signal: AbortSignal;
  /** Progress: the deadline starts again. */
  touch(): void;
  /** Done: no abort any more. */
  stop(): void;
}

export function idleAbort(ms: number, reason: Error): IdleAbort {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    // A watchdog: it must never be what keeps the process alive (a body nobody reads, an agent stopping).
    timer = setTimeout(() => abort.abort(reason), ms).unref();
  };
  touch();
  return { signal: abort.signal, touch, stop: () => clearTimeout(timer) };
}
