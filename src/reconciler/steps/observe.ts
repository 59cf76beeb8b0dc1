// Step 4, observe: the live state, as the runtime lists the containers this agent owns and the data
// plane reports its routes. A failure here fails the pass (nothing is planned from a partial view).
import type { Router } from '../../core/route.js';
import type { Runtime } from '../../core/runtime.js';
import type { LiveState } from '../../plan/plan.js';

export async function observe(deps: { runtime: Pick<Runtime, 'list'>; router: Pick<Router, 'routes'> }): Promise<LiveState> {
  const [targets, routes] = await Promise.all([deps.runtime.list(), deps.router.routes()]);
  return { targets, routes };
}
