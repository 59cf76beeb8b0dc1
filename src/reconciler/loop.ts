// The loop around the pass: one pass at a time (a call during a pass makes one more follow it), polling
// on an interval with jitter or woken by a cron tick, a webhook, a sync or a container event; backing off
// after a failed pass; and the stale alarm when no pass has succeeded for too long.
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Outcome } from './outcome.js';

/** The longest wait between passes while they keep failing. */
const MAX_BACKOFF_MS = 5 * 60_000;
/** On a schedule, the loop sleeps this long unless a tick, a webhook or a sync wakes it. */
const IDLE_MS = 24 * 3_600_000;

export interface LoopDeps {
  clock: Clock;
  /** Raise the stale alarm after this many intervals without a successful pass. */
  staleAfter: number;
}

export class Loop {
  private running: Promise<boolean> | undefined;
  private again = false;
  private wake = new AbortController();
  private lastSuccessAt: number | undefined;
  private stale = false;

  constructor(
    private readonly deps: LoopDeps,
    private readonly out: Outcome,
    /** One pass; true when it succeeded. */
    private readonly pass: () => Promise<boolean>,
    /** Resolves when work that must not overlap a pass (app-scoped runs) is done. */
    private readonly settled: () => Promise<unknown>,
    /** Per app that keeps failing, since when (epoch ms). */
    private readonly failing: () => ReadonlyMap<string, number>,
  ) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  /**
   * One reconcile pass. Single-flight: a call during a pass makes one more pass follow it. Resolves true
   * when the last pass succeeded. Once `stop` aborts no further pass begins; the one in progress finishes.
   */
  reconcile(stop?: AbortSignal): Promise<boolean> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let ok = false;
      try {
        do {
          this.again = false;
          const start = this.deps.clock.now();
          // A pass plans from what it lists: app-scoped runs still changing things finish first.
          await this.settled();
          this.out.status.passStarted();
          ok = await this.pass().finally(() => this.out.status.passEnded());
          this.out.pass(this.deps.clock.now() - start, ok);
        } while (this.again && !stop?.aborted);
        if (ok) {
          this.lastSuccessAt = this.deps.clock.now();
          this.out.status.passSucceeded();
          if (this.stale && !this.failing().size) this.endStale();
        }
        return ok;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Wakes the loop now (a webhook, an operator's sync, a container event); during a pass, one more follows it. */
  trigger(): void {
    if (this.running) this.again = true;
    this.wake.abort();
  }

  /** During a pass: one more follows it (a newer commit superseded the work). */
  runAgain(): void {
    this.again = true;
  }

  /**
   * Polls until `signal` aborts: the interval plus up to 10% jitter (so many agents do not poll in step),
   * doubling after each failed pass up to five minutes (with `pollOnInterval: false`, a cron schedule
   * wakes it instead, and the interval is the schedule's period). When no pass has succeeded for `staleAfter`
   * intervals, the stale alarm goes up: in the status, the logs, and a notification.
   */
  async run(intervalMs: number, signal: AbortSignal, opts: { pollOnInterval?: boolean } = {}): Promise<void> {
    let failures = 0;
    const started = this.deps.clock.now();
    while (!signal.aborted) {
      const ok = await this.reconcile(signal).catch((e) => {
        this.out.log.error({ err: errorMessage(e) }, 'reconcile pass failed');
        return false;
      });
      failures = ok ? 0 : failures + 1;
      const stale = this.staleMessage(ok, this.lastSuccessAt ?? started, intervalMs);
      if (stale && !this.stale) {
        this.stale = true;
        this.out.stale(stale);
      } else if (!stale && this.stale) this.endStale();
      if (signal.aborted) break;
      this.wake = new AbortController();
      const both = AbortSignal.any([signal, this.wake.signal]);
      // On a cron schedule the ticks wake the loop; the timer only paces retries after a failure.
      const idle = opts.pollOnInterval === false && failures === 0;
      const wait = idle ? IDLE_MS : Math.min(intervalMs * 2 ** failures, Math.max(intervalMs, MAX_BACKOFF_MS));
      await this.deps.clock.sleep(wait + Math.floor(Math.random() * intervalMs * 0.1), both);
    }
  }

  /** Why the alarm should be up: no pass has succeeded, or apps have been failing (Stalled), for staleAfter intervals. */
  private staleMessage(ok: boolean, lastSuccess: number, intervalMs: number): string | undefined {
    const now = this.deps.clock.now();
    const limit = this.deps.staleAfter * intervalMs;
    if (!ok && now - lastSuccess >= limit) return `no pass has succeeded since ${new Date(lastSuccess).toISOString()}`;
    const old = [...this.failing()].filter(([, since]) => now - since >= limit).sort((a, b) => a[1] - b[1]);
    if (!old.length) return undefined;
    return `${old.map(([app]) => app).join(', ')} ${old.length === 1 ? 'has' : 'have'} been failing since ${new Date(old[0]![1]).toISOString()}`;
  }

  private endStale(): void {
    this.stale = false;
    this.out.staleOver();
  }
}
