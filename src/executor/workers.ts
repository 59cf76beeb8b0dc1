// Workers follow the web flip, never lead it: this runs only once the active color serves. New workers
// must still be running after a settle time (the health interval times the healthy threshold) before
// the old ones stop; otherwise they are removed and the old ones keep running.
import type { AppPlan } from '../plan/plan.js';
import type { ExecutorDeps, Failure } from './deps.js';
import { dispose } from './dispose.js';
import { failed, failure } from './failure.js';

export async function replaceWorkers(p: AppPlan, deps: ExecutorDeps): Promise<{ ok: true } | Failure> {
  const { create, remove } = p.workers;
  if (!create.length && !remove.length) return { ok: true };
  const attempts = await Promise.allSettled(create.map((spec) => deps.runtime.create(spec)));
  const started = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  const failedStart = attempts.find((a): a is PromiseRejectedResult => a.status === 'rejected');
  if (failedStart) {
    await dispose(started, deps);
    return failure(failedStart.reason, 'CreateFailed');
  }
  if (started.length) {
    await deps.clock.sleep(p.app.health.intervalMs * p.app.health.healthyThreshold);
    const seen = await Promise.all(started.map((t) => deps.runtime.inspect(t.id)));
    const down = started.filter((_, i) => !seen[i]?.running);
    if (down.length) {
      await dispose(started, deps);
      return failed('WorkerFailed', `worker ${down.map((t) => `${t.name} (${seen[started.indexOf(t)]?.state ?? 'removed'})`).join(', ')} did not stay up; the previous workers keep running`);
    }
    deps.log.info({ app: p.app.name, workers: started.map((t) => t.name) }, 'workers started');
  }
  await Promise.all(remove.map((t) => deps.runtime.remove(t.id)));
  return { ok: true };
}
