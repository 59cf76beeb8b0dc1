// The outcome of the reconcile, written and never read back: the status (conditions, commits, targets),
// the journal, the metrics, the notifications and the log lines that go with them. Steps say what
// happened; this module says it everywhere it must be said.
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Journal, JournalEntry } from '../core/journal.js';
import type { Logger } from '../core/log.js';
import type { Observer } from '../core/observer.js';
import type { CommitInfo } from '../core/source.js';
import type { CommitReporter, CommitState } from '../core/commit-status.js';
import type { StatusStore } from './status-store.js';
import type { CertificateInfo } from '../desired/certificates.js';

export interface OutcomeDeps {
  status: StatusStore;
  journal: Journal;
  clock: Clock;
  log: Logger;
  /** Told about flip results and stale alarms (an outgoing webhook, or nothing). */
  notify?: (event: Record<string, unknown>) => void;
  /** Metrics, or nothing. */
  observer?: Observer;
  /** Commit statuses on the forge (the agent config's `report`), or nothing. */
  reporter?: CommitReporter;
}

export class Outcome {
  /** The certificate problem last reported per app, so that each is journaled once, not once a pass. */
  private readonly certificateErrors = new Map<string, string>();
  /** The commit status last posted per context. */
  private readonly lastStatus = new Map<string, string>();

  constructor(private readonly deps: OutcomeDeps) {}

  get status(): StatusStore {
    return this.deps.status;
  }

  get log(): Logger {
    return this.deps.log;
  }

  now(): number {
    return this.deps.clock.now();
  }

  /** The journal is the audit trail, but a full disk must not stop deployments: log and go on. */
  async record(entry: Omit<JournalEntry, 'at'>): Promise<void> {
    await this.deps.journal
      .append({ at: new Date(this.deps.clock.now()).toISOString(), ...entry })
      .catch((e) => this.deps.log.error({ err: errorMessage(e) }, 'cannot write the journal'));
  }

  /**
   * Each TLS app's certificate in its status; a new problem (a failed ACME order, an unusable pair) is
   * also logged, journaled and notified, once until it changes or clears.
   */
  async certificates(commit: string, info: ReadonlyMap<string, CertificateInfo>): Promise<void> {
    for (const [app, about] of info) {
      const error = about.error?.toString();
      this.deps.status.update(app, { certificate: { source: about.source, ...(about.notAfter !== undefined ? { notAfter: about.notAfter } : {}), ...(error ? { error } : {}) } });
      if (error === this.certificateErrors.get(app)) continue;
      if (!error) {
        this.certificateErrors.delete(app);
        continue;
      }
      this.certificateErrors.set(app, error);
      this.deps.log.error({ app, reason: 'CertificateFailed' }, error);
      this.notify({ event: 'certificate-failed', app, message: error });
      await this.record({ app, commit, changes: [], result: 'failed', reason: 'CertificateFailed', detail: error });
    }
  }

  /**
   * A commit status for the forge: queued, never waited on. Only a change of state is posted: an app
   * retried pass after pass stays at its first `pending` (forges limit how often a token may post).
   */
  commitStatus(commit: string, context: string, state: CommitState, description: string): void {
    if (!this.deps.reporter) return;
    const said = `${commit} ${state}`;
    if (this.lastStatus.get(context) === said) return;
    this.lastStatus.set(context, said);
    this.deps.reporter.report({ commit, context, state, description });
  }

  notify(event: Record<string, unknown>): void {
    this.deps.notify?.(event);
  }

  fetched(durationMs: number): void {
    this.deps.observer?.fetched(durationMs);
  }

  pass(durationMs: number, ok: boolean): void {
    this.deps.observer?.pass(durationMs, ok);
  }

  flip(app: string, durationMs: number, ok: boolean): void {
    this.deps.observer?.flip(app, durationMs, ok);
  }

  promotionStopped(app: string, reason: 'ChecksFailed' | 'GuardFailed'): void {
    this.deps.observer?.promotionStopped(app, reason);
  }

  /** The stale alarm: in the status, the log and a notification (once per alarm). */
  stale(message: string): void {
    this.deps.status.raiseStale(message);
    this.deps.log.error({ reason: 'Stale' }, message);
    this.notify({ event: 'stale', message });
  }

  staleOver(): void {
    this.deps.status.clearStale();
    this.deps.log.info('the stale alarm is over');
  }
}

/** Who made a commit and why, as the journal keeps it. */
export function commitFields(info: CommitInfo | undefined): Pick<JournalEntry, 'author' | 'message' | 'committedAt'> {
  if (!info) return {};
  return { author: info.author, message: info.message.split('\n')[0]!, committedAt: new Date(info.timestamp * 1000).toISOString() };
}
