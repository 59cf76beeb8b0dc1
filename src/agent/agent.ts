// The reconcile loop: source -> desired -> plan -> executor -> router, one pass at a time.
//
// - A commit that fails validation is refused whole; the last good desired state stays in force, so
//   self-healing goes on.
// - An app whose flip failed for a commit is not retried for that same commit (no flapping); a new
//   commit, or an operator's sync, tries again. Transient failures (Docker away, port busy) are retried.
// - An empty desired state never prunes what runs (a guard like Argo CD's allowEmpty).
import { COLORS, routesStandby, type AppSpec, type Color, type DesiredState } from '../desired/app.js';
import { loadCommit } from '../desired/load-commit.js';
import { errorMessage, SwitchyardError } from '../errors.js';
import { executeApp, type ExecutorDeps, type FlipResult } from '../executor/flip.js';
import { describe, isNoop, plan, type AppPlan, type LiveState, type PrunePlan } from '../plan/plan.js';
import type { CommitInfo, Source } from '../source/snapshot.js';
import type { AppRoute } from '../router/route.js';
import { oomNote, type LiveTarget } from '../runtime/target.js';
import { resolveEnvFiles, type SecretReader } from '../desired/env-files.js';
import type { Policy } from '../policy/policy.js';
import type { Journal, JournalEntry } from './journal.js';
import type { LastGoodStore } from './last-good.js';
import type { Observer } from './metrics.js';
import type { SuspensionStore } from './suspensions.js';
import type { AgentStatus, AppStatus, StatusStore } from './status.js';

export interface AgentDeps extends ExecutorDeps {
  source: Source;
  journal: Journal;
  status: StatusStore;
  lastGood: LastGoodStore;
  secrets: SecretReader;
  policy: Policy;
  suspensions: SuspensionStore;
  /** Raise the stale alarm after this many intervals without a successful pass. */
  staleAfter: number;
  /** Told about flip results and stale alarms (an outgoing webhook, or nothing). */
  notify?: (event: Record<string, unknown>) => void;
  /** Metrics, or nothing. */
  observer?: Pick<Observer, 'pass' | 'flip'>;
}

/** The longest wait between passes while they keep failing. */
const MAX_BACKOFF_MS = 5 * 60_000;
/** On a schedule, the loop sleeps this long unless a tick, a webhook or a sync wakes it. */
const IDLE_MS = 24 * 3_600_000;

const TRANSIENT: ReadonlySet<string> = new Set(['DockerUnavailable', 'PortInUse', 'Superseded', 'ReconcileFailed', 'CrashLoopBackOff', 'TargetStopped']);

export class Agent {
  private desired: DesiredState | undefined;
  /** Who made the commit in force and why, for the journal. */
  private desiredInfo: CommitInfo | undefined;
  private fetchMs: number | undefined;
  /** The poll interval while `run` loops: how often a busy pass checks for a newer commit. */
  private intervalMs: number | undefined;
  private loadedCommit: string | undefined;
  private readonly failedAt = new Map<string, string>();
  /** Per app, the spec (env files resolved) last applied or found in place, and its commit. */
  private readonly applied = new Map<string, { spec: AppSpec; commit: string }>();
  private readonly repairFailed = new Set<string>();
  /** The desired state the current pass works from (env files resolved), and the apps it is done with. */
  private current: { desired: DesiredState; done: Set<string>; signal?: AbortSignal } | undefined;
  /** App-scoped runs started by container events while a pass was busy with other apps. */
  private readonly targeted = new Map<string, Promise<void>>();
  private running: Promise<boolean> | undefined;
  private suspended: Set<string> | undefined;
  private again = false;
  private wake = new AbortController();

  constructor(private readonly deps: AgentDeps) {}

  status(): AgentStatus {
    return this.deps.status.snapshot();
  }

  /** One reconcile pass. Single-flight: a call during a pass makes one more pass follow it. Resolves true when the last pass succeeded. */
  reconcile(signal?: AbortSignal): Promise<boolean> {
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
          await Promise.all(this.targeted.values());
          this.deps.status.passStarted();
          ok = await this.pass(signal).finally(() => this.deps.status.passEnded());
          this.deps.observer?.pass(this.deps.clock.now() - start, ok);
        } while (this.again && !signal?.aborted);
        if (ok) this.deps.status.passSucceeded();
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

  /** An operator asks to try again: failed commits are retried, at once. */
  sync(): void {
    this.failedAt.clear();
    this.repairFailed.clear();
    this.trigger();
  }

  /**
   * A container of `app` died, started or was called unhealthy: that app is reconciled now. With no pass
   * running, a pass starts. While a pass is busy with other apps (a long gate, say) and done with this
   * one, an app-scoped run starts at once instead of waiting for it; otherwise one more pass follows.
   */
  targetEvent(app: string): void {
    this.repairFailed.delete(app);
    const pass = this.current;
    if (!this.running || !pass?.done.has(app) || this.targeted.has(app)) return this.trigger();
    const run = this.reconcileOnly(app, pass.desired, pass.signal)
      .catch((e) => this.deps.log.error({ app, err: errorMessage(e) }, 'reconciling the app failed'))
      .finally(() => this.targeted.delete(app));
    this.targeted.set(app, run);
  }

  private async reconcileOnly(name: string, desired: DesiredState, signal?: AbortSignal): Promise<void> {
    const spec = desired.apps.find((a) => a.name === name);
    if (!spec || (await this.suspendedApps()).has(name)) return;
    const live = { targets: await this.deps.runtime.list(), routes: await this.deps.router.routes() };
    const [ap] = plan({ commit: desired.commit, apps: [spec] }, live, this.deps.listenHost, this.deps.clock.now()).apps;
    await this.reconcileApp(ap!, live, signal);
    await this.refreshTargets([spec]);
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
    if (!this.desired?.apps.some((a) => a.name === app)) return false;
    const set = await this.suspendedApps();
    if (on) set.add(app);
    else set.delete(app);
    await this.deps.suspensions.save(set);
    this.deps.status.update(app, { suspended: on });
    this.deps.log.info({ app }, on ? 'app suspended: nothing about it changes until it is resumed' : 'app resumed');
    return true;
  }

  private async suspendedApps(): Promise<Set<string>> {
    this.suspended ??= await this.deps.suspensions.load();
    return this.suspended;
  }

  /**
   * Polls until `signal` aborts: the interval plus up to 10% jitter (so many agents do not poll in step),
   * doubling after each failed pass up to five minutes (with `pollOnInterval: false`, a cron schedule
   * wakes it instead, and the interval is the schedule's period). When no pass has succeeded for `staleAfter`
   * intervals, the stale alarm goes up: in the status, the logs, and a notification.
   */
  async run(intervalMs: number, signal: AbortSignal, opts: { pollOnInterval?: boolean } = {}): Promise<void> {
    this.intervalMs = intervalMs;
    // Self-heal: a target that dies (or starts again) triggers a pass at once, not at the next poll.
    void this.deps.runtime.watch?.((e) => {
      this.deps.log.info({ app: e.app, target: e.id.slice(0, 12), event: e.action }, 'container event: reconciling now');
      this.targetEvent(e.app);
    }, signal);
    let failures = 0;
    const started = this.deps.clock.now();
    while (!signal.aborted) {
      const ok = await this.reconcile(signal).catch((e) => {
        this.deps.log.error({ err: errorMessage(e) }, 'reconcile pass failed');
        return false;
      });
      failures = ok ? 0 : failures + 1;
      const since = this.deps.status.snapshot().lastSuccessAt ?? started;
      if (!ok && this.deps.clock.now() - since >= this.deps.staleAfter * intervalMs) {
        const message = `no pass has succeeded since ${new Date(since).toISOString()}`;
        if (this.deps.status.raiseStale(message)) {
          this.deps.log.error({ reason: 'Stale' }, message);
          this.deps.notify?.({ event: 'stale', message });
        }
      }
      if (signal.aborted) break;
      this.wake = new AbortController();
      const both = AbortSignal.any([signal, this.wake.signal]);
      // On a cron schedule the ticks wake the loop; the timer only paces retries after a failure.
      const idle = opts.pollOnInterval === false && failures === 0;
      const wait = idle ? IDLE_MS : Math.min(intervalMs * 2 ** failures, Math.max(intervalMs, MAX_BACKOFF_MS));
      await this.deps.clock.sleep(wait + Math.floor(Math.random() * intervalMs * 0.1), both);
    }
  }

  private async pass(signal?: AbortSignal): Promise<boolean> {
    const { source, status, log } = this.deps;
    let fetched = true;
    try {
      const fetchStart = this.deps.clock.now();
      const snapshot = await source.latest();
      this.fetchMs = this.deps.clock.now() - fetchStart;
      status.fetched(snapshot.commit);
      if (snapshot.commit !== this.loadedCommit) {
        const loaded = await loadCommit(snapshot, this.deps.policy, source);
        this.loadedCommit = snapshot.commit;
        if (loaded.ok) {
          this.desired = loaded.state;
          this.desiredInfo = snapshot.info;
          status.desiredAttempted(snapshot.commit, []);
          await this.deps.lastGood.save(snapshot.commit).catch((e) => log.warn({ err: errorMessage(e) }, 'cannot record the last good commit'));
          log.info({ commit: snapshot.commit, apps: loaded.state.apps.map((a) => a.name), author: snapshot.info.author }, 'new desired state');
        } else {
          const errors = loaded.errors.map((e) => e.toString());
          status.desiredAttempted(snapshot.commit, errors);
          for (const e of errors) log.error({ commit: snapshot.commit, reason: 'ValidationFailed' }, e);
          await this.record({ app: '*', commit: snapshot.commit, ...commitFields(snapshot.info), changes: [], result: 'refused', reason: 'ValidationFailed', detail: errors.join('\n') });
          this.desired ??= await this.recoverLastGood();
          log.error({ commit: snapshot.commit, keeping: this.desired?.commit }, 'commit refused: validation failed; nothing live was changed');
        }
      }
    } catch (e) {
      fetched = false;
      status.fetchFailed(errorMessage(e));
      log.warn({ err: errorMessage(e), reason: 'FetchFailed' }, 'fetch failed; keeping the last good state');
    }
    if (!this.desired) return fetched;
    const { state: desired, errors: unreadable } = await resolveEnvFiles(this.desired, this.deps.secrets);

    let live: LiveState;
    try {
      live = { targets: await this.deps.runtime.list(), routes: await this.deps.router.routes() };
    } catch (e) {
      log.warn({ err: errorMessage(e) }, 'cannot observe live state; retrying next pass');
      return false;
    }
    const p = plan(desired, live, this.deps.listenHost, this.deps.clock.now());
    const suspended = await this.suspendedApps();
    // Left as they are this pass: suspended apps, and apps with an env file that cannot be read.
    const held = new Set([...suspended, ...unreadable.keys()]);
    for (const [name, errors] of unreadable) {
      const app = desired.apps.find((a) => a.name === name)!;
      for (const e of errors) log.error({ app: name, reason: 'SecretUnavailable' }, e.toString());
      status.track(app);
      status.setPhase(name, { phase: 'Stalled', reason: 'SecretUnavailable', message: `${errors.map((e) => e.toString()).join('; ')}; the app is left as it is` });
    }
    const work = p.apps.filter((ap) => !held.has(ap.app.name) && !isNoop(ap));
    // While apps are being changed, a newer commit on the branch cancels this pass (supersede): gates
    // stop, what this pass created is disposed, the route stays, and the next pass starts at once.
    const superseded = new AbortController();
    const done = new AbortController();
    const watcher = work.length && this.intervalMs ? this.watchTip(desired.commit, superseded, done.signal) : undefined;
    const passSignal = signal ? AbortSignal.any([signal, superseded.signal]) : superseded.signal;
    this.current = { desired, done: new Set(), signal: passSignal };
    const current = this.current;
    await Promise.all(p.apps.filter((ap) => !held.has(ap.app.name)).map((ap) => this.reconcileApp(ap, live, passSignal).finally(() => current.done.add(ap.app.name))));
    this.current = undefined;
    done.abort();
    await watcher;
    for (const name of suspended) this.deps.status.update(name, { suspended: true });
    const pruning = p.prune.filter((x) => !suspended.has(x.app));
    await this.prune(pruning, desired);
    // What the status shows: observed again only when this pass changed something.
    await this.refreshTargets(desired.apps, work.length || pruning.length ? undefined : live);
    return fetched;
  }

  /** Aborts `superseded` when the branch tip moves past `commit`, checking once per interval until `done`. */
  private async watchTip(commit: string, superseded: AbortController, done: AbortSignal): Promise<void> {
    const both = AbortSignal.any([done, superseded.signal]);
    while (!both.aborted) {
      await this.deps.clock.sleep(this.intervalMs!, both);
      if (both.aborted) return;
      const tip = await this.deps.source.latest().catch(() => undefined);
      if (tip && tip.commit !== commit) {
        this.deps.log.info({ commit, newer: tip.commit }, 'a newer commit supersedes the work in progress');
        this.again = true;
        superseded.abort();
      }
    }
  }

  /** The journal is the audit trail, but a full disk must not stop deployments: log and go on. */
  private async record(entry: Omit<JournalEntry, 'at'>): Promise<void> {
    await this.deps.journal
      .append({ at: new Date(this.deps.clock.now()).toISOString(), ...entry })
      .catch((e) => this.deps.log.error({ err: errorMessage(e) }, 'cannot write the journal'));
  }

  /** After a restart onto an invalid tip: the last good commit recorded on disk, read again from git. */
  private async recoverLastGood(): Promise<DesiredState | undefined> {
    const commit = await this.deps.lastGood.load();
    if (!commit) return undefined;
    try {
      const snapshot = await this.deps.source.at(commit);
      const loaded = await loadCommit(snapshot, this.deps.policy, this.deps.source);
      if (loaded.ok) {
        this.deps.status.desiredInForce(commit);
        this.desiredInfo = snapshot.info;
      }
      return loaded.ok ? loaded.state : undefined;
    } catch (e) {
      this.deps.log.warn({ commit, err: errorMessage(e) }, 'cannot read the last good commit');
      return undefined;
    }
  }

  private async reconcileApp(ap: AppPlan, live: LiveState, signal?: AbortSignal): Promise<void> {
    const { status, log } = this.deps;
    const name = ap.app.name;
    status.track(ap.app);
    if (ap.currentRoute) status.update(name, { activeColor: ap.currentRoute.color });
    if (isNoop(ap)) {
      this.failedAt.delete(name);
      this.applied.set(name, { spec: ap.app, commit: ap.commit });
      status.update(name, { lastAppliedCommit: ap.commit, lastAttemptedCommit: ap.commit });
      await this.settle(ap, `serving ${ap.app.active} (${ap.keep[ap.app.active].length} target(s))`);
      return;
    }
    if (this.failedAt.get(name) === ap.commit) return this.repair(name, ap.commit, live, signal);
    const changes = describe(ap);
    // The commit was applied already, yet the host differs: someone or something changed it by hand.
    const drift = status.app(name)?.lastAppliedCommit === ap.commit;
    if (drift) log.warn({ app: name, commit: ap.commit, changes, reason: 'Drift' }, 'drift: the host no longer matches the applied commit; correcting it');
    else log.info({ app: name, commit: ap.commit, changes }, 'reconciling');
    status.update(name, { lastAttemptedCommit: ap.commit });
    status.setPhase(name, { phase: 'Reconciling', reason: 'Progressing', message: changes.join('; ') });

    // Failures the executor could not classify (Docker dropped mid-call, say) are retried next pass.
    const result = await executeApp(ap, this.deps, signal).catch((e: unknown): FlipResult => ({
      ok: false as const,
      reason: e instanceof SwitchyardError && e.code === 'DockerUnavailable' ? ('DockerUnavailable' as const) : ('ReconcileFailed' as const),
      message: errorMessage(e),
    }));
    const route = (await this.deps.router.routes()).find((r) => r.app === name);
    if (route) status.update(name, { activeColor: route.color });
    // A superseded pass is no result; a crash loop is reported (once) by settle.
    if (result.ok || (result.reason !== 'Superseded' && result.reason !== 'CrashLoopBackOff')) {
      const t = result.timings ?? {};
      const totalMs = (t.bringUpMs ?? 0) + (t.gateMs ?? 0) + (t.flipMs ?? 0);
      await this.record({
        app: name,
        commit: ap.commit,
        ...commitFields(this.desiredInfo),
        changes,
        result: result.ok ? 'applied' : 'failed',
        ...(drift && result.ok ? { reason: 'Drift' } : {}),
        ...(result.ok ? {} : { reason: result.reason, detail: result.message }),
        ...(route ? { color: route.color } : {}),
        durations: { ...(this.fetchMs !== undefined ? { fetchMs: this.fetchMs } : {}), ...t, totalMs },
      });
      this.deps.observer?.flip(name, totalMs, result.ok);
      this.deps.notify?.({ event: result.ok ? 'applied' : 'failed', app: name, commit: ap.commit, color: route?.color, ...(result.ok ? {} : { reason: result.reason, message: result.message }) });
    }
    if (result.ok) {
      this.failedAt.delete(name);
      this.applied.set(name, { spec: ap.app, commit: ap.commit });
      status.update(name, { lastAppliedCommit: ap.commit });
      log.info({ app: name, commit: ap.commit, color: ap.app.active }, 'reconciled');
      await this.settle(ap, `serving ${ap.app.active} (${result.routed.length} target(s))`);
      return;
    }
    if (result.reason === 'Superseded') return;
    if (result.reason === 'CrashLoopBackOff') return this.settle(ap, result.message, result.looping);
    if (!TRANSIENT.has(result.reason)) this.failedAt.set(name, ap.commit);
    status.setPhase(name, { phase: 'Stalled', reason: result.reason, message: result.message });
    const serving = route ? `${route.color} keeps serving` : 'nothing was serving';
    log.error({ app: name, commit: ap.commit, reason: result.reason, serving: route?.color }, `${result.message}; ${serving}`);
  }

  /**
   * The app's newest commit failed and is not retried, but what serves traffic is still healed: a dead
   * target replaced, targets Docker restarted routed again. The plan is made from the last applied spec,
   * so a half-done roll of the failed commit is rolled back too; the standby color and the workers are
   * left as they are. A repair that fails for a lasting reason is not tried again until a container of
   * the app has an event (or an operator's sync).
   * The app stays Stalled on the failure.
   */
  private async repair(name: string, failed: string, live: LiveState, signal?: AbortSignal): Promise<void> {
    const last = this.applied.get(name);
    if (!last || this.repairFailed.has(name)) return;
    const [full] = plan({ commit: last.commit, apps: [last.spec] }, live, this.deps.listenHost, this.deps.clock.now()).apps;
    const serves = (c: Color) => c === last.spec.active || routesStandby(last.spec);
    const rp = full && {
      ...full,
      create: full.create.filter((t) => serves(t.color)),
      remove: full.remove.filter((t) => serves(t.color)),
      workers: { create: [], remove: [] },
    };
    if (!rp || isNoop(rp)) return;
    const changes = describe(rp);
    this.deps.log.warn({ app: name, commit: last.commit, failed, changes, reason: 'Drift' }, 'the newest commit failed for this app; healing its last applied state');
    const result = await executeApp(rp, this.deps, signal).catch((e: unknown): FlipResult => ({ ok: false, reason: 'ReconcileFailed', message: errorMessage(e) }));
    if (!result.ok && result.reason === 'Superseded') return;
    await this.record({
      app: name,
      commit: last.commit,
      changes,
      result: result.ok ? 'applied' : 'failed',
      reason: result.ok ? 'Drift' : result.reason,
      ...(result.ok ? {} : { detail: result.message }),
    });
    if (result.ok) return;
    if (!TRANSIENT.has(result.reason)) this.repairFailed.add(name);
    this.deps.log.error({ app: name, commit: last.commit, reason: result.reason }, `healing the last applied state failed: ${result.message}`);
  }

  /**
   * The app's phase once its plan is carried out: Ready, unless targets of the commit are crash-looping
   * (Docker restarts them with its backoff; the agent reports them and gates each one again when it runs).
   * Entering that state is journaled and notified once; each pass that still sees it logs it.
   */
  private async settle(ap: AppPlan, serving: string, exited: readonly LiveTarget[] = []): Promise<void> {
    const name = ap.app.name;
    const crashed = [...new Map([...ap.restarting, ...exited].map((t) => [t.id, t])).values()];
    if (!crashed.length) {
      this.deps.status.setPhase(name, { phase: 'Ready', message: serving });
      return;
    }
    // Restart counts are only in inspect (Docker may have started one again meanwhile: it still counts).
    const seen = await Promise.all(crashed.map((t) => this.deps.runtime.inspect(t.id).catch(() => undefined)));
    const looping = crashed.map((t, i) => ({ ...t, ...seen[i] }));
    const details = looping.map((t) => `${t.color} replica ${t.replica} (${t.name}): restarted ${t.restarts ?? '?'} time(s), ${t.running ? 'running again' : `exited with code ${t.exitCode ?? '?'}`}${oomNote(t)}; `);
    const message = `${details.join('')}Docker restarts crashed targets with a backoff of up to a minute; ${serving}`;
    const before = this.deps.status.app(name)?.conditions.find((c) => c.type === 'Ready')?.reason;
    this.deps.status.setPhase(name, { phase: 'Stalled', reason: 'CrashLoopBackOff', message });
    this.deps.log.warn({ app: name, reason: 'CrashLoopBackOff', targets: looping.map((t) => ({ name: t.name, restarts: t.restarts, exitCode: t.exitCode, oomKilled: t.oomKilled })) }, 'targets are crash-looping');
    if (before === 'CrashLoopBackOff') return;
    await this.record({ app: name, commit: ap.commit, ...commitFields(this.desiredInfo), changes: [], result: 'failed', reason: 'CrashLoopBackOff', detail: message });
    this.deps.notify?.({ event: 'failed', app: name, commit: ap.commit, reason: 'CrashLoopBackOff', message });
  }

  private async prune(prune: readonly PrunePlan[], desired: DesiredState): Promise<void> {
    if (!prune.length) return;
    if (!desired.apps.length) {
      this.deps.log.warn({ apps: prune.map((p) => p.app), commit: desired.commit }, 'desired state has no apps: refusing to prune everything (add an app, or remove containers by hand)');
      return;
    }
    for (const p of prune) {
      this.deps.log.info({ app: p.app, targets: p.targets.length }, 'pruning app removed from the repository');
      if (p.routed) {
        await this.deps.router.remove(p.app);
        // Requests already on its targets finish (up to the app's drain timeout) before the targets go.
        const left = await this.deps.router.drain(p.targets.map((t) => t.id), p.drainTimeoutMs);
        if (left) this.deps.log.warn({ app: p.app, inFlight: left }, 'drain timeout reached; removing targets with requests still in flight');
      }
      await Promise.all(p.targets.map((t) => this.deps.runtime.remove(t.id)));
      this.deps.status.removeApp(p.app);
    }
  }

  private async refreshTargets(apps: readonly AppSpec[], unchanged?: LiveState): Promise<void> {
    let targets: readonly LiveTarget[];
    let routes: readonly AppRoute[];
    try {
      targets = unchanged?.targets ?? (await this.deps.runtime.list());
      routes = unchanged?.routes ?? (await this.deps.router.routes());
    } catch {
      return;
    }
    // Restart counts are only in inspect: asked for the targets Docker is restarting.
    const restarted = new Map<string, Pick<LiveTarget, 'restarts' | 'exitCode' | 'oomKilled'>>();
    for (const t of targets.filter((x) => x.state === 'restarting')) {
      const seen = await this.deps.runtime.inspect(t.id).catch(() => undefined);
      if (seen) restarted.set(t.id, { restarts: seen.restarts, exitCode: seen.exitCode, ...(seen.oomKilled ? { oomKilled: true } : {}) });
    }
    for (const app of apps) {
      const routed = new Set(routes.find((r) => r.app === app.name)?.targets.map((t) => t.id));
      const traffic = await this.deps.router.counters(app.name).catch(() => ({}) as AppStatus['traffic']);
      const ejected = new Set(COLORS.flatMap((c) => traffic[c]?.ejected ?? []));
      const of = (color: 'blue' | 'green') =>
        targets
          .filter((t) => t.app === app.name && t.color === color)
          .sort((a, b) => a.replica - b.replica)
          .map((t) => ({
            id: t.id.slice(0, 12),
            name: t.name,
            replica: t.replica,
            state: t.state,
            routed: routed.has(t.id),
            ...(t.address ? { address: `${t.address.host}:${t.address.port}` } : {}),
            ...(t.health ? { health: t.health } : {}),
            ...(restarted.get(t.id) ?? {}),
            ...(ejected.has(t.id) ? { ejected: true } : {}),
          }));
      this.deps.status.update(app.name, { targets: { blue: of('blue'), green: of('green') }, traffic });
    }
  }
}

function commitFields(info: CommitInfo | undefined): Pick<JournalEntry, 'author' | 'message' | 'committedAt'> {
  if (!info) return {};
  return { author: info.author, message: info.message.split('\n')[0]!, committedAt: new Date(info.timestamp * 1000).toISOString() };
}
