// One reconcile pass, as ordered steps, each in its own module under steps/ with the conditions it sets:
//   fetch -> load (source.ts) -> host files (env files, certificates) -> observe (read during the fetch)
//   -> plan (decide.ts)
//   -> apply (apply.ts) -> ACME orders (certificates.ts) -> prune (prune.ts) -> report (report.ts).
// While apps are being changed, a newer commit on the branch cancels the pass (supersede.ts). A container
// event for an app the pass is already done with starts a run scoped to that app at once (runApp).
import type { DesiredState } from '../core/app.js';
import { errorMessage } from '../core/errors.js';
import type { FailedCommit } from '../core/stores.js';
import { readHostFiles, type HostFileReaders } from '../desired/host-files.js';
import { isNoop, plan, type LiveState } from '../plan/plan.js';
import type { Memory } from './memory.js';
import type { Outcome } from './outcome.js';
import { applyApp, setPhase, type ApplyDeps } from './steps/apply.js';
import { decide, holdOf, type Guards, type Hold } from './steps/decide.js';
import { prune } from './steps/prune.js';
import { orderCertificates } from './steps/certificates.js';
import { reportTargets } from './steps/report.js';
import { observe } from './steps/observe.js';
import { fetchAndLoad, type SourceDeps } from './steps/source.js';
import { watchTip } from './supersede.js';

export interface PassDeps extends ApplyDeps, SourceDeps, HostFileReaders {}

export class Pass {
  /** The desired state the pass in progress works from (env files resolved), and the apps it is done with. */
  private current: { desired: DesiredState; done: Set<string>; signal: AbortSignal } | undefined;

  constructor(
    private readonly deps: PassDeps,
    private readonly memory: Memory,
    private readonly out: Outcome,
  ) {}

  /**
   * One pass. True unless the source or the host could not be read (the loop then backs off). With
   * `intervalMs`, a newer commit on the branch, checked once per interval, cancels the work in progress and
   * `onSuperseded` is told, so that the loop runs again at once. Nothing else cancels a pass: an agent
   * told to stop (SIGTERM) lets the pass in progress finish, so that no flip is left half done.
   */
  async run(supersede?: { intervalMs: number; onSuperseded: () => void }): Promise<boolean> {
    const { deps, memory, out } = this;
    // The live state is read while the source is fetched: a pass that changes nothing costs the slower of
    // the two, not their sum. It is no staler for it: only this agent's passes (single flight) change what
    // it owns, a container event meanwhile makes one more pass follow, and an event that woke this pass is
    // already in the list (the runtime passes a stop on once its list shows it: adapters/docker/events.ts).
    const observing = observe(deps).then(
      (live): { live: LiveState } => ({ live }),
      (error: unknown) => ({ error }),
    );
    const fetched = await fetchAndLoad(deps, memory, out);
    if (!memory.desired) {
      await observing;
      return fetched;
    }

    // host files: env files and certificates
    const { state: desired, unreadable, certificates } = await readHostFiles(memory.desired, deps, deps.clock.now());
    for (const [name, errors] of unreadable) {
      const app = desired.apps.find((a) => a.name === name)!;
      for (const e of errors) out.log.error({ app: name, reason: e.code }, e.toString());
      out.status.track(app);
      setPhase(out, memory, name, { phase: 'Stalled', reason: errors[0]!.code, message: `${errors.map((e) => e.toString()).join('; ')}; the app is left as it is` });
    }

    // observe
    const observed = await observing;
    if ('error' in observed) {
      out.log.warn({ err: errorMessage(observed.error) }, 'cannot observe live state; retrying next pass');
      return false;
    }
    const { live } = observed;

    // plan
    const suspended = await memory.suspendedApps();
    const decision = decide(desired, live, { suspended, unreadable, failed: await memory.failedCommits() }, deps.entrypoints, deps.clock.now());
    // Carried out: apps with no hold, and the failed ones (only what serves them is healed).
    const apply = decision.apps.filter((a) => !a.hold || a.hold.why === 'failed');
    const work = apply.filter((a) => !isNoop(a.plan));

    // apply
    const superseded = new AbortController();
    const done = new AbortController();
    const watcher = work.length && supersede ? watchTip(deps, desired.commit, supersede.intervalMs, superseded, done.signal, supersede.onSuperseded, out.log) : undefined;
    const current = (this.current = { desired, done: new Set<string>(), signal: superseded.signal });
    const finished = (name: string) => () => current.done.add(name);
    await Promise.all(apply.map(({ plan: ap, hold }) => applyApp(ap, live, failedCommit(hold), deps, memory, out, superseded.signal).finally(finished(ap.app.name))));
    this.current = undefined;
    done.abort();
    await watcher;
    // A suspended app is shown as it is, also by an agent that has just started.
    for (const { plan: ap } of decision.apps.filter((a) => a.hold?.why === 'suspended')) {
      memory.failingSince.delete(ap.app.name);
      out.status.track(ap.app);
      if (ap.currentRoute) out.status.update(ap.app.name, { activeColor: ap.currentRoute.color });
      out.status.update(ap.app.name, { suspended: true });
    }

    await out.certificates(desired.commit, certificates);
    orderCertificates(memory.desired, memory, deps.acme);

    // prune
    await prune(decision.prune, decision.pruneRefused, deps, memory, out, desired.commit);

    // report: observed again only when this pass changed something.
    await reportTargets(desired.apps, deps, out, work.length || decision.prune.length ? undefined : live);
    return fetched;
  }

  /** The apps the pass in progress is done with, and what it worked from; undefined between passes. */
  inProgress(): { desired: DesiredState; done: ReadonlySet<string>; signal: AbortSignal } | undefined {
    return this.current;
  }

  /** A run scoped to one app, on the desired state of the pass in progress (a container event). */
  async runApp(name: string, desired: DesiredState, signal?: AbortSignal): Promise<void> {
    const { deps, memory, out } = this;
    const spec = desired.apps.find((a) => a.name === name);
    if (!spec) return;
    const live = await observe(deps);
    const [ap] = plan({ commit: desired.commit, apps: [spec] }, live, deps.entrypoints, deps.clock.now()).apps;
    const guards: Guards = { suspended: await memory.suspendedApps(), unreadable: new Map(), failed: await memory.failedCommits() };
    const hold = holdOf(ap!, guards);
    if (hold?.why === 'suspended') return;
    await applyApp(ap!, live, failedCommit(hold), deps, memory, out, signal);
    await reportTargets([spec], deps, out);
  }
}

function failedCommit(hold: Hold | undefined): FailedCommit | undefined {
  return hold?.why === 'failed' ? hold : undefined;
}
