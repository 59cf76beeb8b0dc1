// Carries out one app's plan. The order is the safety argument:
//   1. remove obsolete targets that take no traffic;
//   2. create the missing targets of both colors;
//   3. gate every target that is about to take traffic (and the standby's new ones) on health;
//   3b. with a guard, judge a canary's share before it gets more; when the serving color changes, run
//       the app's smoke checks through its preview route;
//   4. only when the active color is healthy (and passed its checks), swap the route in one step;
//   4b. with a guard, watch the new color for its window, and put the previous route back on a breach;
//   5. drain the targets the route left, then remove them.
// Any failure before step 4 disposes what this pass created and leaves the route, and so live
// traffic, exactly as it was. A failure of step 4 itself leaves the route too, and keeps the gated
// targets for the retry.
import { otherColor, routesStandby, type Color } from '../core/app.js';
import { sameRoute, type AppRoute } from '../core/route.js';
import type { LiveTarget } from '../core/target.js';
import { gate } from '../health/gate.js';
import { desiredRoute, type AppPlan } from '../plan/plan.js';
import type { ExecutorDeps, FlipResult, Timings } from './deps.js';
import { dispose } from './dispose.js';
import { failed, failure, gateMessage, SUPERSEDED } from './failure.js';
import { isRoll, roll } from './roll.js';
import { runChecks } from './checks.js';
import { guardFlip, judgeFirst, watchFor } from './guard.js';
import { replaceWorkers } from './workers.js';

export async function executeApp(p: AppPlan, deps: ExecutorDeps, signal?: AbortSignal): Promise<FlipResult> {
  const timings: Timings = {};
  const result = await execute(p, deps, timings, signal);
  return { ...result, timings };
}

async function execute(p: AppPlan, deps: ExecutorDeps, timings: Timings, signal?: AbortSignal): Promise<FlipResult> {
  const { runtime, router, log, clock } = deps;
  let mark = clock.now();
  const lap = () => {
    const now = clock.now();
    const ms = now - mark;
    mark = now;
    return ms;
  };
  const app = p.app;
  const active = app.active;
  const standby = otherColor(active);

  // Not routed, but requests sent before the route left them may still be running (an agent killed
  // between the switch and the drain, say): drain them too. With none in flight this returns at once.
  if (p.remove.length) await router.drain(p.remove.map((t) => t.id), p.app.drainTimeoutMs);
  await Promise.all(p.remove.map((t) => runtime.remove(t.id)));

  // A routed target that stopped running (or that Docker's health check calls unhealthy) leaves the route
  // now, not once its replacement is healthy, as long as others are left to serve (the proxy also retries
  // around it meanwhile). A crash-looping one leaves the route too, but stays: Docker is restarting it.
  // So does one Docker restarted (it is published on a new port): it comes back only through the gate.
  const dead = new Set(p.retire.filter((t) => !t.running || t.health === 'unhealthy').map((t) => t.id));
  const looping = new Set(p.restarting.map((t) => t.id));
  const restarted = new Set([...p.keep.blue, ...p.keep.green].filter((t) => !routedAt(p.currentRoute, t) && p.currentRoute?.targets.some((r) => r.id === t.id)).map((t) => t.id));
  const out = p.currentRoute?.targets.filter((t) => dead.has(t.id) || looping.has(t.id) || restarted.has(t.id)) ?? [];
  if (p.currentRoute && out.length) {
    const alive = p.currentRoute.targets.filter((t) => !out.includes(t));
    if (alive.some((t) => t.color === p.currentRoute!.color)) {
      const route = { ...p.currentRoute, targets: alive };
      await router.apply(route);
      log.info({ app: p.app.name, removed: out.map((t) => t.id) }, 'dead targets left the route');
      p = { ...p, currentRoute: route, retire: p.retire.filter((t) => !dead.has(t.id)), remove: [...p.remove, ...p.retire.filter((t) => dead.has(t.id))] };
      await Promise.all([...dead].map((id) => runtime.remove(id)));
    }
  }

  // The serving color changes in place: roll it, a few targets at a time, then go on with the rest.
  let plan = p;
  if (isRoll(p)) {
    const rolled = await roll(p, deps, signal);
    if (!rolled.ok) {
      if ('error' in rolled) {
        await dispose(rolled.created, deps);
        return failure(rolled.error, 'CreateFailed');
      }
      if ('superseded' in rolled || signal?.aborted) return SUPERSEDED;
      return failed('HealthCheckFailed', `${rolled.message}: ${gateMessage(active, rolled.gateFailed)}`);
    }
    plan = {
      ...p,
      create: p.create.filter((s) => s.color !== active),
      retire: p.retire.filter((t) => t.color !== active),
      keep: { ...p.keep, [active]: rolled.serving },
      currentRoute: rolled.route,
      routeChange: false,
    };
  }

  const created: LiveTarget[] = [];
  const attempts = await Promise.allSettled(plan.create.map((spec) => runtime.create(spec)));
  for (const a of attempts) if (a.status === 'fulfilled') created.push(a.value);
  const failedCreate = attempts.find((a): a is PromiseRejectedResult => a.status === 'rejected');
  if (failedCreate) {
    await dispose(created, deps);
    return failure(failedCreate.reason, 'CreateFailed');
  }
  if (created.length) log.info({ app: app.name, created: created.map((t) => t.name) }, 'targets created');
  timings.bringUpMs = lap();

  // Gate every target about to take traffic that is not routed where it runs now: the new ones, adopted
  // ones after an agent restart, and ones Docker restarted. The standby's new targets are gated too, for
  // its status.
  const standbyRouted = routesStandby(app);
  const toGate = (color: Color) => [
    ...plan.keep[color].filter((t) => (color === active || standbyRouted) && !routedAt(plan.currentRoute, t)),
    ...created.filter((t) => t.color === color),
  ];
  const [activeGate, standbyGate] = await Promise.all([
    gate(toGate(active), app.health, deps, signal),
    gate(toGate(standby), app.health, deps, signal),
  ]);
  timings.gateMs = lap();
  if (!standbyGate.healthy) await dispose(created.filter((t) => t.color === standby), deps);
  if (!activeGate.healthy) {
    await dispose(created.filter((t) => t.color === active), deps);
    if (signal?.aborted) return SUPERSEDED;
    // A target this pass did not create that exits in the gate is crash-looping under Docker's restart
    // policy: that is retried when Docker starts it again, not held against the commit.
    // Failures that say nothing against the commit are retried: a target stopped from outside (the engine
    // going down, say), or one this pass did not create that crashed (Docker restarts it; see settle).
    const message = gateMessage(active, activeGate);
    const looping = activeGate.failures.filter((f) => f.reason === 'TargetExited' && !created.includes(f.target)).map((f) => f.target);
    const stopped = activeGate.failures.filter((f) => f.reason === 'TargetStopped').length;
    if (looping.length + stopped < activeGate.failures.length) return failed('HealthCheckFailed', message);
    if (looping.length) return failed('CrashLoopBackOff', message, { looping });
    return failed('TargetStopped', `${message}; it was stopped from outside (the engine going down, or docker stop): trying again`);
  }
  if (signal?.aborted) {
    await dispose(created, deps);
    return SUPERSEDED;
  }

  log.info({ app: app.name, color: active, gated: toGate(active).length }, 'health gate passed');
  const healthy = (color: Color) => [...plan.keep[color], ...created.filter((t) => t.color === color)].sort((a, b) => a.replica - b.replica);
  const routed = healthy(active);
  const loopingActive = plan.restarting.filter((t) => t.color === active);
  if (!routed.length && loopingActive.length) {
    // Nothing of the active color runs: an empty route would refuse every request, while the proxy
    // still gets answers from a target Docker brings back between crashes. Leave the route as it is.
    return failed('CrashLoopBackOff', `every ${active} target is crash-looping; the route is left as it was`, { looping: loopingActive });
  }
  // An unhealthy standby takes no preview, canary or rule traffic; the active color serves it all.
  const route = {
    ...desiredRoute(app, { [active]: routed, [standby]: standbyGate.healthy ? healthy(standby) : [] } as Record<Color, LiveTarget[]>, deps.entrypoints),
    // Since when this color has been active: kept across passes, reset by a flip.
    since: plan.currentRoute?.color === active ? (plan.currentRoute.since ?? deps.clock.now()) : deps.clock.now(),
  };
  // A canary that takes a share now is judged at that share before it gets more.
  const first = judgeFirst(app, route, plan.currentRoute, created);
  if (first) {
    const tripped = await guardFlip(app, first, deps, signal);
    if (tripped) {
      await dispose(created.filter((t) => t.color === active), deps);
      return tripped;
    }
  }
  // Then the smoke checks, when the serving color changes (or nothing served yet): a failure leaves the
  // route as it was and removes what this pass created for the new color.
  if (app.checks.length && plan.currentRoute?.color !== active) {
    const checked = await runChecks(app, plan.currentRoute, active, routed, deps);
    timings.checksMs = lap();
    if (checked) {
      await dispose(created.filter((t) => t.color === active), deps);
      return checked;
    }
  }
  if (!sameRoute(plan.currentRoute, route)) {
    try {
      await router.apply(route);
    } catch (e) {
      // The new targets passed their gate and are what the commit asks for: they stay, so that the retry
      // (once the port is free, the data plane back) routes them instead of creating them all again.
      return failure(e, 'RouteFailed');
    }
    log.info({ app: app.name, color: active, targets: routed.map((t) => t.name), from: plan.currentRoute?.color }, 'route switched');
  }
  timings.flipMs = lap();

  // The guard: a flip (or a canary's rise) is watched for its window before anything of the previous route
  // goes, so that a breach can undo it in one step. A breach leaves everything else for the repair to judge.
  const watch = watchFor(app, route, plan.currentRoute);
  if (watch) {
    const tripped = await guardFlip(app, watch, deps, signal);
    if (tripped) return tripped;
  }

  if (plan.retire.length) {
    const left = await router.drain(plan.retire.map((t) => t.id), app.drainTimeoutMs);
    if (left) log.warn({ app: app.name, inFlight: left }, 'drain timeout reached; removing targets with requests still in flight');
    await Promise.all(plan.retire.map((t) => runtime.remove(t.id)));
  }

  const workers = await replaceWorkers(plan, deps);
  if (!workers.ok) return workers;
  if (!standbyGate.healthy) return failed('HealthCheckFailed', gateMessage(standby, standbyGate));
  return { ok: true, routed };
}

/** True when the route sends traffic to this target at the address it has now. */
function routedAt(route: AppRoute | undefined, t: LiveTarget): boolean {
  return Boolean(route?.targets.some((r) => r.id === t.id && r.host === t.address?.host && r.port === t.address?.port));
}
