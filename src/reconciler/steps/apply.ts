// Step 6, apply, for one app: carry its plan out through the executor and write the outcome. Sets
// Reconciling (Progressing) while it works, then Ready (Succeeded), or Stalled with the failure's reason.
// What the loop does next comes from the failure's retry class (core/errors.ts): only a failure that needs
// a human is held against the commit; a superseded run is no result at all.
import { routesStandby, type Color } from '../../core/app.js';
import type { Code } from '../../core/errors.js';
import { oomNote, type LiveTarget } from '../../core/target.js';
import type { FailedCommit } from '../../core/stores.js';
import { heldText } from './decide.js';
import type { ExecutorDeps, FlipResult } from '../../executor/deps.js';
import { failure } from '../../executor/failure.js';
import { executeApp } from '../../executor/flip.js';
import { describe, isNoop, plan, type AppPlan, type LiveState } from '../../plan/plan.js';
import type { Phase } from '../status-store.js';
import type { Memory } from '../memory.js';
import type { Reverter } from '../../core/reverter.js';
import { commitFields, type Outcome } from '../outcome.js';

export interface ApplyDeps extends ExecutorDeps {
  /** Pushes a guard's rollback back to git (`guard.revertCommit`); absent when the agent cannot push. */
  reverter?: Reverter;
}

/** Runs the executor; a failure it could not classify (Docker dropped mid-call, say) is ReconcileFailed. */
function execute(ap: AppPlan, deps: ApplyDeps, signal?: AbortSignal): Promise<FlipResult> {
  return executeApp(ap, deps, signal).catch((e: unknown) => failure(e, 'ReconcileFailed'));
}

export function setPhase(out: Outcome, memory: Memory, name: string, phase: Phase): void {
  out.status.setPhase(name, phase);
  memory.lastReason.set(name, phase.phase === 'Ready' ? 'Succeeded' : phase.reason);
  if (phase.phase === 'Ready') memory.failingSince.delete(name);
  else if (phase.phase === 'Stalled' && !memory.failingSince.has(name)) memory.failingSince.set(name, out.now());
}

/**
 * Carries out `ap`; with `failed` (the plan's commit failed for a reason that needs a human: decide.ts),
 * only heals what serves the app instead.
 */
export async function applyApp(ap: AppPlan, live: LiveState, failed: FailedCommit | undefined, deps: ApplyDeps, memory: Memory, out: Outcome, signal?: AbortSignal): Promise<void> {
  const { status, log } = out;
  const name = ap.app.name;
  status.track(ap.app);
  if (ap.currentRoute) status.update(name, { activeColor: ap.currentRoute.color });
  if (failed) return repair(name, failed, live, deps, memory, out, signal);
  if (isNoop(ap)) {
    await memory.setFailed(name, undefined);
    if (status.app(name)?.lastAppliedCommit !== ap.commit) out.commitStatus(ap.commit, `switchyard/${name}`, 'success', `live: ${ap.app.active} serves it, nothing to change`);
    memory.applied.set(name, { spec: ap.app, commit: ap.commit });
    status.update(name, { lastAppliedCommit: ap.commit, lastAttemptedCommit: ap.commit });
    await settle(ap, deps, memory, out, `serving ${ap.app.active} (${ap.keep[ap.app.active].length} target(s))`);
    return;
  }
  const changes = describe(ap);
  // The commit was applied already, yet the host differs: someone or something changed it by hand.
  const drift = memory.applied.get(name)?.commit === ap.commit;
  if (drift) log.warn({ app: name, commit: ap.commit, changes, reason: 'Drift' }, 'drift: the host no longer matches the applied commit; correcting it');
  else {
    log.info({ app: name, commit: ap.commit, changes }, 'reconciling');
    out.commitStatus(ap.commit, `switchyard/${name}`, 'pending', changes.join('; '));
  }
  status.update(name, { lastAttemptedCommit: ap.commit });
  setPhase(out, memory, name, { phase: 'Reconciling', reason: 'Progressing', message: changes.join('; ') });

  const result = await execute(ap, deps, signal);
  const route = (await deps.router.routes()).find((r) => r.app === name);
  if (route) status.update(name, { activeColor: route.color });
  // A superseded run is no result; a crash loop is reported (once) by settle.
  if (result.ok || (result.reason !== 'Superseded' && result.reason !== 'CrashLoopBackOff')) {
    const t = result.timings ?? {};
    const totalMs = (t.bringUpMs ?? 0) + (t.gateMs ?? 0) + (t.checksMs ?? 0) + (t.flipMs ?? 0);
    await out.record({
      app: name,
      commit: ap.commit,
      ...commitFields(memory.desiredInfo),
      changes,
      result: result.ok ? 'applied' : 'failed',
      ...(drift && result.ok ? { reason: 'Drift' } : {}),
      ...(result.ok ? {} : { reason: result.reason, detail: result.message }),
      ...(route ? { color: route.color } : {}),
      durations: { ...(memory.fetchMs !== undefined ? { fetchMs: memory.fetchMs } : {}), ...t, totalMs },
    });
    out.flip(name, totalMs, result.ok);
    if (!result.ok && (result.reason === 'ChecksFailed' || result.reason === 'GuardFailed')) out.promotionStopped(name, result.reason);
    out.notify({ event: result.ok ? 'applied' : 'failed', app: name, commit: ap.commit, color: route?.color, ...(result.ok ? {} : { reason: result.reason, message: result.message }) });
  }
  if (!drift) reportResult(ap, result, route?.color, out);
  if (result.ok) {
    await memory.setFailed(name, undefined);
    memory.applied.set(name, { spec: ap.app, commit: ap.commit });
    status.update(name, { lastAppliedCommit: ap.commit });
    log.info({ app: name, commit: ap.commit, color: ap.app.active }, 'reconciled');
    await settle(ap, deps, memory, out, `serving ${ap.app.active} (${result.routed.length} target(s))`);
    return;
  }
  if (result.reason === 'Superseded') return;
  if (result.reason === 'CrashLoopBackOff') return settle(ap, deps, memory, out, result.message, result.looping);
  if (result.retry === 'needs-human') await memory.setFailed(name, { commit: ap.commit, reason: result.reason, message: result.message });
  const written = result.degraded && ap.app.guard?.revertCommit ? await writeBack(ap, result.message, deps, out) : undefined;
  const degraded = result.degraded ? `${result.degraded}${written ? `; ${written}` : ''}` : undefined;
  setPhase(out, memory, name, { phase: 'Stalled', reason: result.reason, message: result.message, ...(degraded ? { degraded } : {}) });
  const serving = route ? `${route.color} keeps serving` : 'nothing was serving';
  log.error({ app: name, commit: ap.commit, reason: result.reason, retry: result.retry, serving: route?.color }, `${result.message}; ${serving}`);
}

/** The commit status of an app's result: live, failed (for a reason that needs a human), superseded, or still being retried. */
function reportResult(ap: AppPlan, result: FlipResult, color: Color | undefined, out: Outcome): void {
  const context = `switchyard/${ap.app.name}`;
  if (result.ok) return out.commitStatus(ap.commit, context, 'success', `live: ${color ?? ap.app.active} serves it`);
  if (result.reason === 'Superseded') return out.commitStatus(ap.commit, context, 'canceled', 'superseded by a newer commit');
  const state = result.retry === 'needs-human' ? 'failure' : 'pending';
  out.commitStatus(ap.commit, context, state, `${result.reason}: ${result.message}${state === 'pending' ? ' (retrying)' : ''}`);
}

/**
 * `guard.revertCommit`: the agent pushes a revert of the commit the guard undid, so that git asks for
 * what is live again (the next pass applies the revert like any commit). What happened is journaled and
 * notified, and returned for the Degraded condition; a refused push is left to a human.
 */
async function writeBack(ap: AppPlan, figures: string, deps: ApplyDeps, out: Outcome): Promise<string> {
  const name = ap.app.name;
  if (!deps.reverter) {
    out.log.warn({ app: name, commit: ap.commit }, 'guard.revertCommit is set, but this agent cannot push a revert (it follows a tag, a range or a commit, or a local path)');
    return 'no revert pushed: the agent follows no http(s) branch; revert it by hand';
  }
  const result = await deps.reverter.revert(ap.commit, `switchyard guard, app ${name}: ${figures}.`);
  if (result.ok) {
    out.log.info({ app: name, commit: ap.commit, revert: result.commit, branch: result.branch }, 'guard: pushed a revert of the commit');
    await out.record({ app: name, commit: ap.commit, changes: [], result: 'reverted', detail: `reverted in ${result.commit} on ${result.branch}: ${figures}` });
    out.notify({ event: 'reverted', app: name, commit: ap.commit, revert: result.commit, branch: result.branch });
    return `revert ${result.commit.slice(0, 12)} pushed to ${result.branch}`;
  }
  out.log.error({ app: name, commit: ap.commit, reason: 'GuardFailed' }, `guard: the revert was not pushed: ${result.why}; leaving it to a human`);
  await out.record({ app: name, commit: ap.commit, changes: [], result: 'failed', reason: 'GuardFailed', detail: `revert not pushed: ${result.why}` });
  out.notify({ event: 'revert-failed', app: name, commit: ap.commit, message: result.why });
  return `no revert pushed (${result.why}): revert it by hand`;
}

/**
 * The app's newest commit failed and is not retried, but what serves traffic is still healed: a dead
 * target replaced, targets Docker restarted routed again. The plan is made from the last applied spec,
 * so a half-done roll of the failed commit is rolled back too; the standby color and the workers are
 * left as they are. A repair that fails for a reason that needs a human is not tried again until a
 * container of the app has an event (or an operator's sync). The app stays Stalled on the failure.
 */
async function repair(name: string, failed: FailedCommit, live: LiveState, deps: ApplyDeps, memory: Memory, out: Outcome, signal?: AbortSignal): Promise<void> {
  // An agent that has just started says again why the app is held, from what the failure left on disk.
  if (!memory.lastReason.has(name) && failed.reason) {
    setPhase(out, memory, name, { phase: 'Stalled', reason: failed.reason, message: heldText(failed) });
    out.status.update(name, { lastAttemptedCommit: failed.commit });
  }
  const last = memory.applied.get(name);
  if (!last || memory.repairFailed.has(name)) return;
  const [full] = plan({ commit: last.commit, apps: [last.spec] }, live, deps.entrypoints, deps.clock.now()).apps;
  const serves = (c: Color) => c === last.spec.active || routesStandby(last.spec);
  const rp = full && {
    ...full,
    create: full.create.filter((t) => serves(t.color)),
    remove: full.remove.filter((t) => serves(t.color)),
    workers: { create: [], remove: [] },
  };
  if (!rp || isNoop(rp)) return;
  const changes = describe(rp);
  out.log.warn({ app: name, commit: last.commit, failed, changes, reason: 'Drift' }, 'the newest commit failed for this app; healing its last applied state');
  const result = await execute(rp, deps, signal);
  if (!result.ok && result.reason === 'Superseded') return;
  await out.record({
    app: name,
    commit: last.commit,
    changes,
    result: result.ok ? 'applied' : 'failed',
    reason: result.ok ? 'Drift' : result.reason,
    ...(result.ok ? {} : { detail: result.message }),
  });
  if (result.ok) return;
  if (result.retry === 'needs-human') memory.repairFailed.add(name);
  out.log.error({ app: name, commit: last.commit, reason: result.reason }, `healing the last applied state failed: ${result.message}`);
}

/**
 * The app's phase once its plan is carried out: Ready, unless targets of the commit are crash-looping
 * (Docker restarts them with its backoff; the agent reports them and gates each one again when it runs).
 * Entering that state is journaled and notified once; each pass that still sees it logs it.
 */
async function settle(ap: AppPlan, deps: ApplyDeps, memory: Memory, out: Outcome, serving: string, exited: readonly LiveTarget[] = []): Promise<void> {
  const name = ap.app.name;
  const restarting = [...new Map([...ap.restarting, ...exited].map((t) => [t.id, t])).values()];
  const crashed = restarting.filter((t) => !t.moving);
  const moving = restarting.length - crashed.length;
  if (!crashed.length) {
    // Swarm moving targets off a drained or lost node is the runtime at work, not a failure to report.
    if (moving) setPhase(out, memory, name, { phase: 'Reconciling', reason: 'Progressing', message: `Swarm is moving ${moving} target(s) to another node (theirs was drained or lost); each is routed again once it passed the gate; ${serving}` });
    else setPhase(out, memory, name, { phase: 'Ready', message: serving });
    return;
  }
  // Restart counts are only in inspect (Docker may have started one again meanwhile: it still counts).
  const seen = await Promise.all(crashed.map((t) => deps.runtime.inspect(t.id).catch(() => undefined)));
  const looping = crashed.map((t, i) => ({ ...t, ...seen[i] }));
  const details = looping.map((t) => `${t.color} replica ${t.replica} (${t.name}): restarted ${t.restarts ?? '?'} time(s), ${t.running ? 'running again' : `exited with code ${t.exitCode ?? '?'}`}${oomNote(t)}; `);
  const message = `${details.join('')}Docker restarts crashed targets with a backoff of up to a minute; ${serving}`;
  const before: Code | undefined = memory.lastReason.get(name);
  setPhase(out, memory, name, { phase: 'Stalled', reason: 'CrashLoopBackOff', message });
  out.log.warn({ app: name, reason: 'CrashLoopBackOff', targets: looping.map((t) => ({ name: t.name, restarts: t.restarts, exitCode: t.exitCode, oomKilled: t.oomKilled })) }, 'targets are crash-looping');
  if (before === 'CrashLoopBackOff') return;
  await out.record({ app: name, commit: ap.commit, ...commitFields(memory.desiredInfo), changes: [], result: 'failed', reason: 'CrashLoopBackOff', detail: message });
  out.notify({ event: 'failed', app: name, commit: ap.commit, reason: 'CrashLoopBackOff', message });
}
