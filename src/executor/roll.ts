// Rolling replacement of the color that serves, when it changes in place (a new image or env without a
// flip): `surge` new targets at a time are created and gated, swapped into the route in place of as
// many old ones, and only then are those old ones drained and removed. A target that fails its gate
// stops the roll: it is removed, and the old targets not yet replaced keep serving (with the new ones
// that made it); so does a newer commit (supersede), before the next batch is created. Only one extra
// set of `surge` targets ever runs, never a whole second color.
import { gate } from '../health/gate.js';
import { routeTarget, type AppPlan } from '../plan/plan.js';
import type { AppRoute } from '../core/route.js';
import type { LiveTarget } from '../core/target.js';
import type { ExecutorDeps } from './deps.js';

export type RollResult =
  | { ok: true; serving: LiveTarget[]; route: AppRoute }
  | { ok: false; error: unknown; created: LiveTarget[] }
  | { ok: false; gateFailed: Awaited<ReturnType<typeof gate>>; message: string }
  | { ok: false; superseded: true };

/** The plan replaces targets of the color that serves now, and it stays the serving color. */
export function isRoll(p: AppPlan): boolean {
  const active = p.app.active;
  return p.currentRoute?.color === active && p.retire.some((t) => t.color === active) && p.create.some((s) => s.color === active);
}

export async function roll(p: AppPlan, deps: ExecutorDeps, signal?: AbortSignal): Promise<RollResult> {
  const { app } = p;
  const active = app.active;
  const news = p.create.filter((s) => s.color === active).sort((a, b) => a.replica - b.replica);
  const olds = p.retire.filter((t) => t.color === active).sort((a, b) => a.replica - b.replica);
  let serving = [...p.keep[active], ...olds];
  let route = p.currentRoute!;
  const swap = async (leaving: LiveTarget[], joining: LiveTarget[]) => {
    const gone = new Set(leaving.map((t) => t.id));
    serving = [...serving.filter((t) => !gone.has(t.id)), ...joining].sort((a, b) => a.replica - b.replica);
    route = { ...route, targets: [...route.targets.filter((t) => t.color !== active), ...serving.map(routeTarget)] };
    await deps.router.apply(route);
    if (leaving.length) {
      await deps.router.drain([...gone], app.drainTimeoutMs);
      await Promise.all(leaving.map((t) => deps.runtime.remove(t.id)));
    }
  };

  for (let i = 0; i < news.length; i += app.surge) {
    // A newer commit stops the roll between batches: what was swapped in stays, with the old ones left.
    if (signal?.aborted) return { ok: false, superseded: true };
    const batch = news.slice(i, i + app.surge);
    const created: LiveTarget[] = [];
    try {
      for (const spec of batch) created.push(await deps.runtime.create(spec));
    } catch (error) {
      return { ok: false, error, created };
    }
    const result = await gate(created, app.health, deps, signal);
    if (!result.healthy || signal?.aborted) {
      await Promise.all(created.map((t) => deps.runtime.remove(t.id).catch(() => undefined)));
      return { ok: false, gateFailed: result, message: `rolling replacement stopped after ${i} of ${news.length} new target(s); the others keep serving` };
    }
    // The old targets with the same replica numbers leave (or the oldest left, when numbers differ).
    const leaving = batch.map((s) => olds.find((o) => o.replica === s.replica && serving.includes(o))).filter((t): t is LiveTarget => Boolean(t));
    for (const o of olds) if (leaving.length < batch.length && serving.includes(o) && !leaving.includes(o)) leaving.push(o);
    await swap(leaving, created);
    deps.log.info({ app: app.name, in: created.map((t) => t.name), out: leaving.map((t) => t.name) }, 'rolled');
  }
  const left = olds.filter((o) => serving.includes(o));
  if (left.length) await swap(left, []);
  return { ok: true, serving, route };
}
