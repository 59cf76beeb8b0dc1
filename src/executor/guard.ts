// The guard after a flip (and after a canary's weight rises): for `guard.window` the new color (the canary) is judged by the data plane's own counters
// (the ones the metrics come from): its 5xx answers over its requests, and the 99th percentile of its
// time to answer where the data plane measures one (the embedded proxy's histogram). On a breach, with
// at least `minRequests` seen, the route goes back to the previous one in one step (the old color's
// targets are still running: nothing of the previous route is retired before the window ends), and the
// flip fails with the figures. A newer commit (the pass's abort signal) ends the watch: it decides next.
import { otherColor, type AppSpec, type Color, type GuardSpec } from '../core/app.js';
import { errorMessage } from '../core/errors.js';
import type { AppRoute, ColorCounters, LatencyHistogram } from '../core/route.js';
import type { LiveTarget } from '../core/target.js';
import type { ExecutorDeps, Failure } from './deps.js';
import { failed, failure } from './failure.js';

/** What the guard saw on the new color since the flip. */
export interface GuardFigures {
  requests: number;
  errors: number;
  /** Estimated from the histogram, when the data plane keeps one. */
  p99Ms?: number;
  elapsedMs: number;
}

/**
 * What the guard watches and what it does on a breach: after a flip, the new color, undone by the previous
 * route; after a canary's weight rises, the canary color, undone by the previous route (its weight before).
 */
export interface Watch {
  color: Color;
  /** The route to put in force on a breach (the one in force already, for a judgement before a change). */
  fallback: AppRoute;
  /** Says the undo: "flipped back to blue", "the canary weight stays at 10%". */
  undo: string;
  /** What differs from git once undone, for the Degraded condition (nothing, when the change was never made). */
  degraded?: string;
}

/**
 * The canary share is judged first: before a change that gives the canary color more (its weight rises,
 * or it becomes the active color), while it takes a share now, it is watched at that share for the
 * window; a breach stops the change, and nothing live changes. Not when this pass made new canary
 * targets: those have no share yet (the guard after the change judges them).
 */
export function judgeFirst(app: AppSpec, route: AppRoute, current: AppRoute | undefined, created: readonly LiveTarget[]): Watch | undefined {
  const share = current?.routing?.canary?.weight ?? 0;
  if (!app.guard || !current || share <= 0) return undefined;
  const canary = otherColor(current.color);
  // New canary targets: the share's figures are of the ones they replace, and say nothing of them.
  if (created.some((t) => t.color === canary)) return undefined;
  const flip = route.color === canary;
  const rise = route.color === current.color && (route.routing?.canary?.weight ?? 0) > share;
  if (!flip && !rise) return undefined;
  return { color: canary, fallback: current, undo: flip ? `the canary share (${share}%) was judged first: the flip to ${canary} did not happen` : `the canary share (${share}%) was judged first: its weight did not rise` };
}

/** The watch after `route` replaced `previous`, or none: a first deploy, or a change the guard does not judge. */
export function watchFor(app: AppSpec, route: AppRoute, previous: AppRoute | undefined): Watch | undefined {
  if (!app.guard || !previous) return undefined;
  if (previous.color !== route.color) return { color: route.color, fallback: previous, undo: `flipped back to ${previous.color}`, degraded: `rolled back by guard; git still asks for ${route.color}` };
  const weight = route.routing?.canary?.weight ?? 0;
  const before = previous.routing?.canary?.weight ?? 0;
  if (weight <= before) return undefined;
  // Back to the weight before, the previous route as it was: what a repair of the last applied commit keeps.
  const canary = otherColor(route.color);
  return { color: canary, fallback: previous, undo: `canary weight back to ${before}%`, degraded: `canary held back by guard; git still asks for ${weight}% to ${canary}` };
}

export async function guardFlip(app: AppSpec, watch: Watch, deps: ExecutorDeps, signal?: AbortSignal): Promise<Failure | undefined> {
  const guard = app.guard!;
  const { router, clock, log } = deps;
  const { color } = watch;
  const start = clock.now();
  const read = async (): Promise<ColorCounters | undefined> => (await router.counters(app.name).catch(() => undefined))?.[color];
  let base = await read();
  // Read often: the counters are one control-socket (or stats) read, and a breach costs requests every step.
  const step = Math.max(50, Math.min(250, guard.windowMs / 20));
  log.info({ app: app.name, color, windowMs: guard.windowMs }, 'guard: watching the new color');
  while (!signal?.aborted) {
    const left = guard.windowMs - (clock.now() - start);
    if (left <= 0) break;
    await clock.sleep(Math.min(step, left), signal);
    if (signal?.aborted) break;
    const now = await read();
    if (!now) continue;
    // A data plane that restarted (HAProxy reloads reset its counters) counts again from zero.
    if (base && now.requests < base.requests) base = undefined;
    const figures = since(base, now, clock.now() - start);
    const breach = judge(figures, guard);
    if (!breach) continue;
    try {
      await router.apply(watch.fallback);
    } catch (e) {
      log.error({ app: app.name, err: errorMessage(e) }, 'guard: the rollback route was not taken');
      return failure(e, 'RouteFailed');
    }
    log.warn({ app: app.name, color, ...figures, reason: 'GuardFailed' }, `guard: ${breach} on ${color}; ${watch.undo}`);
    return { ...failed('GuardFailed', `${breach} on ${color}; ${watch.undo}`), ...(watch.degraded ? { degraded: watch.degraded } : {}) };
  }
  return undefined;
}

/** The counters' growth since the flip. */
export function since(base: ColorCounters | undefined, now: ColorCounters, elapsedMs: number): GuardFigures {
  const requests = now.requests - (base?.requests ?? 0);
  const errors = now.errors5xx - (base?.errors5xx ?? 0);
  const latency = now.latency && histogramSince(base?.latency, now.latency);
  const p99Ms = latency && latency.count ? quantile(latency, 0.99) : undefined;
  return { requests, errors, ...(p99Ms !== undefined ? { p99Ms } : {}), elapsedMs };
}

/** Why the figures break the guard ("error rate 7.2% over 311 requests in 41 s; limit 1%"), or undefined. */
export function judge(f: GuardFigures, guard: GuardSpec): string | undefined {
  if (f.requests < guard.minRequests) return undefined;
  const over = `over ${f.requests} requests in ${Math.round(f.elapsedMs / 1000)} s`;
  const rate = f.errors / f.requests;
  if (rate > guard.maxErrorRate) return `error rate ${percent(rate)} ${over}; limit ${percent(guard.maxErrorRate)}`;
  if (guard.maxP99Ms !== undefined && f.p99Ms !== undefined && f.p99Ms > guard.maxP99Ms) return `p99 ${Math.round(f.p99Ms)} ms ${over}; limit ${guard.maxP99Ms} ms`;
  return undefined;
}

function percent(x: number): string {
  return `${Number((x * 100).toFixed(2))}%`;
}

function histogramSince(base: LatencyHistogram | undefined, now: LatencyHistogram): LatencyHistogram {
  if (!base || base.count > now.count) return now;
  return { bucketsMs: now.bucketsMs, counts: now.counts.map((c, i) => c - (base.counts[i] ?? 0)), count: now.count - base.count, sumMs: now.sumMs - base.sumMs };
}

/**
 * The q-quantile of a cumulative histogram, interpolated inside its bucket (as Prometheus'
 * histogram_quantile does); past the last bucket, that bucket's bound.
 */
export function quantile(h: LatencyHistogram, q: number): number {
  const rank = q * h.count;
  let prevBound = 0;
  let prevCount = 0;
  for (let i = 0; i < h.bucketsMs.length; i++) {
    const bound = h.bucketsMs[i]!;
    const count = h.counts[i]!;
    if (count >= rank) return count === prevCount ? bound : prevBound + ((bound - prevBound) * (rank - prevCount)) / (count - prevCount);
    prevBound = bound;
    prevCount = count;
  }
  return h.bucketsMs.at(-1)!;
}
