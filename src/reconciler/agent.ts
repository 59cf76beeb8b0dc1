// The agent: one object that wires the loop (loop.ts) around the pass (pass.ts) and answers the API and
// the CLI (status, sync, suspend, resume) and the runtime's container events. It decides nothing itself.
import { errorMessage } from '../core/errors.js';
import type { Journal } from '../core/journal.js';
import type { Observer } from '../core/observer.js';
import { withTraffic, type AgentStatus } from '../core/status.js';
import type { FailedCommitStore, SuspensionStore } from '../core/stores.js';
import { Loop } from './loop.js';
import { Memory } from './memory.js';
import { Outcome } from './outcome.js';
import { Pass, type PassDeps } from './pass.js';
import type { CommitReporter } from '../core/commit-status.js';
import type { StatusStore } from './status-store.js';

export interface AgentDeps extends PassDeps {
  journal: Journal;
  status: StatusStore;
  suspensions: SuspensionStore;
  failedCommits: FailedCommitStore;
  /** Raise the stale alarm after this many intervals without a successful pass. */
  staleAfter: number;
  /** Told about flip results and stale alarms (an outgoing webhook, or nothing). */
  notify?: (event: Record<string, unknown>) => void;
  /** Metrics, or nothing. */
  observer?: Observer;
  /** Commit statuses on the forge, or nothing. */
  reporter?: CommitReporter;
}

export class Agent {
  private readonly memory: Memory;
  private readonly out: Outcome;
  private readonly pass: Pass;
  private readonly loop: Loop;
  /** The poll interval while `run` loops: how often a busy pass checks for a newer commit. */
  private intervalMs: number | undefined;
  /** App-scoped runs started by container events while a pass was busy with other apps. */
  private readonly targeted = new Map<string, Promise<void>>();

  constructor(private readonly deps: AgentDeps) {
    this.memory = new Memory(deps.suspensions, deps.failedCommits);
    this.out = new Outcome(deps);
    this.pass = new Pass(deps, this.memory, this.out);
    this.loop = new Loop(deps, this.out, () => this.runPass(), () => Promise.all(this.targeted.values()), () => this.memory.failingSince);
  }

  status(): AgentStatus {
    return this.deps.status.snapshot();
  }

  /** The status with the data plane's counters as they are now (the API's answer); without them when it does not answer. */
  async liveStatus(): Promise<AgentStatus> {
    const traffic = await this.deps.router.traffic().catch(() => undefined);
    const status = this.status();
    return traffic ? withTraffic(status, traffic) : status;
  }

  /** One reconcile pass. Single-flight: a call during a pass makes one more pass follow it. Resolves true when the last pass succeeded. */
  reconcile(): Promise<boolean> {
    return this.loop.reconcile();
  }

  /** Wakes the loop now (a webhook, an operator's sync, a container event); during a pass, one more follows it. */
  trigger(): void {
    this.loop.trigger();
  }

  /** An operator asks to try again: failed commits are retried, at once. */
  sync(): void {
    this.memory.forgetFailures().catch((e) => this.deps.log.error({ err: errorMessage(e) }, 'cannot save the failed-commit memory'));
    this.trigger();
  }

  /**
   * A container of `app` died, started or was called unhealthy: that app is reconciled now. With no pass
   * running, a pass starts. While a pass is busy with other apps (a long gate, say) and done with this
   * one, an app-scoped run starts at once instead of waiting for it; otherwise one more pass follows.
   */
  targetEvent(app: string): void {
    this.memory.repairFailed.delete(app);
    const pass = this.pass.inProgress();
    if (!this.loop.busy || !pass?.done.has(app) || this.targeted.has(app)) return this.trigger();
    const run = this.pass
      .runApp(app, pass.desired, pass.signal)
      .catch((e) => this.deps.log.error({ app, err: errorMessage(e) }, 'reconciling the app failed'))
      .finally(() => this.targeted.delete(app));
    this.targeted.set(app, run);
  }

  /** Returns false when the app is unknown. */
  async suspend(app: string): Promise<boolean> {
    return this.setSuspended(app, true);
  }

  async resume(app: string): Promise<boolean> {
    const known = await this.setSuspended(app, false);
    if (known) this.trigger();
    return known;
  }

  private async setSuspended(app: string, on: boolean): Promise<boolean> {
    if (!this.memory.desired?.apps.some((a) => a.name === app)) return false;
    await this.memory.setSuspended(app, on);
    this.deps.status.update(app, { suspended: on });
    this.deps.log.info({ app }, on ? 'app suspended: nothing about it changes until it is resumed' : 'app resumed');
    return true;
  }

  /** The data plane was found gone and started again (reconciler/data-plane.ts): counted, journaled, told. */
  dataPlaneRestarted(error: string): void {
    const message = `the data plane was gone (${error}); started again with its saved routes`;
    this.deps.status.dataPlaneRestarted(error);
    this.deps.log.warn({ reason: 'DataPlaneRestarted' }, message);
    this.out.notify({ event: 'dataPlaneRestarted', message });
    void this.out.record({ app: '*', commit: this.memory.desired?.commit ?? '', changes: [], result: 'applied', reason: 'DataPlaneRestarted', detail: message });
  }

  /** Loops until `signal` aborts (see Loop.run); container events wake it at once. */
  async run(intervalMs: number, signal: AbortSignal, opts: { pollOnInterval?: boolean } = {}): Promise<void> {
    this.intervalMs = intervalMs;
    // Self-heal: a target that dies (or starts again) triggers a pass at once, not at the next poll.
    void this.deps.runtime.watch?.((e) => {
      this.deps.log.info({ app: e.app, target: e.id.slice(0, 12), event: e.action }, 'container event: reconciling now');
      this.targetEvent(e.app);
    }, signal);
    await this.loop.run(intervalMs, signal, opts);
  }

  private runPass(): Promise<boolean> {
    const supersede = this.intervalMs ? { intervalMs: this.intervalMs, onSuperseded: () => this.loop.runAgain() } : undefined;
    return this.pass.run(supersede);
  }
}
