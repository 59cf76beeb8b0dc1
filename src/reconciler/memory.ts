// What the reconciler remembers between passes to decide what to do. The status is written from
// outcomes and never read back; this is the only state decisions come from (besides git and the host).
// The failed-commit memory is also kept on disk, so that a restart does not retry a commit that failed.
import type { AppSpec, DesiredState } from '../core/app.js';
import type { Code } from '../core/errors.js';
import type { CommitInfo } from '../core/source.js';
import type { FailedCommit, FailedCommitStore, SuspensionStore } from '../core/stores.js';

export class Memory {
  /** The desired state in force (the newest valid commit, or the last good one) and who made it. */
  desired: DesiredState | undefined;
  desiredInfo: CommitInfo | undefined;
  /** The commit last loaded, valid or not: an unchanged tip is not loaded again. */
  loadedCommit: string | undefined;
  /** The ref last followed and the commit it pointed at: a tag that moves is journaled. */
  followed: { ref: string; commit: string } | undefined;
  /** How long the last fetch took, for the journal. */
  fetchMs: number | undefined;
  /** Per app, the commit whose apply failed for a reason that needs a human: not retried for that commit. */
  private failed: Map<string, FailedCommit> | undefined;
  /** Per app, the spec (env files resolved) last applied or found in place, and its commit. */
  readonly applied = new Map<string, { spec: AppSpec; commit: string }>();
  /** Apps whose repair of the last applied state failed for good: not tried again until an event or a sync. */
  readonly repairFailed = new Set<string>();
  /** Per app, the reason of the phase it was last put in: a crash loop is journaled when it is entered. */
  readonly lastReason = new Map<string, Code>();
  /** Per app that is Stalled, since when (epoch ms): the stale alarm rises when an app keeps failing. */
  readonly failingSince = new Map<string, number>();
  private suspended: Set<string> | undefined;
  /** Saves of the failed-commit memory, one after the other (a sync may save while a pass does). */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly suspensions: SuspensionStore,
    private readonly failedStore: FailedCommitStore,
  ) {}

  /** The failed commits, once every save asked for so far is on disk. */
  async failedCommits(): Promise<ReadonlyMap<string, FailedCommit>> {
    await this.saving;
    this.failed ??= await this.failedStore.load();
    return this.failed;
  }

  async setFailed(app: string, failure: FailedCommit | undefined): Promise<void> {
    const failed = (await this.failedCommits()) as Map<string, FailedCommit>;
    if (failed.get(app)?.commit === failure?.commit) return;
    if (failure) failed.set(app, failure);
    else failed.delete(app);
    await this.save();
  }

  /** An operator asks to try again: every failed commit and failed repair, forgotten at once. */
  forgetFailures(): Promise<void> {
    this.repairFailed.clear();
    this.failed = new Map();
    return this.save();
  }

  private save(): Promise<void> {
    const failed = new Map(this.failed);
    const saved = this.saving.then(() => this.failedStore.save(failed));
    this.saving = saved.catch(() => undefined);
    return saved;
  }

  async suspendedApps(): Promise<Set<string>> {
    this.suspended ??= await this.suspensions.load();
    return this.suspended;
  }

  async setSuspended(app: string, on: boolean): Promise<void> {
    const set = await this.suspendedApps();
    if (on) set.add(app);
    else set.delete(app);
    await this.suspensions.save(set);
  }

  /** An app left the repository: nothing about it is remembered. */
  async forgetApp(app: string): Promise<void> {
    this.applied.delete(app);
    this.repairFailed.delete(app);
    this.lastReason.delete(app);
    this.failingSince.delete(app);
    await this.setFailed(app, undefined);
  }
}
