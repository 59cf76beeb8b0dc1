// Step 8, report: the targets of each color, written to the status for people and the API (never read
// back). Observed again only when the pass changed something. The data plane's counters are not read here:
// the API reads them when asked (core/status.ts withTraffic), one call for every app.
import type { AppSpec } from '../../core/app.js';
import type { AppRoute, Router } from '../../core/route.js';
import type { Runtime } from '../../core/runtime.js';
import type { LiveTarget } from '../../core/target.js';
import type { LiveState } from '../../plan/plan.js';
import type { Outcome } from '../outcome.js';

export async function reportTargets(apps: readonly AppSpec[], deps: { runtime: Runtime; router: Router }, out: Outcome, unchanged?: LiveState): Promise<void> {
  let targets: readonly LiveTarget[];
  let routes: readonly AppRoute[];
  try {
    targets = unchanged?.targets ?? (await deps.runtime.list());
    routes = unchanged?.routes ?? (await deps.router.routes());
  } catch {
    return;
  }
  // Restart counts are only in inspect: asked for the targets Docker is restarting.
  const restarted = new Map<string, Pick<LiveTarget, 'restarts' | 'exitCode' | 'oomKilled'>>();
  for (const t of targets.filter((x) => x.state === 'restarting')) {
    const seen = await deps.runtime.inspect(t.id).catch(() => undefined);
    if (seen) restarted.set(t.id, { restarts: seen.restarts, exitCode: seen.exitCode, ...(seen.oomKilled ? { oomKilled: true } : {}) });
  }
  for (const app of apps) {
    const routed = new Set(routes.find((r) => r.app === app.name)?.targets.map((t) => t.id));
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
          ...(t.node ? { node: t.node } : {}),
          ...(restarted.get(t.id) ?? {}),
        }));
    out.status.update(app.name, { targets: { blue: of('blue'), green: of('green') } });
  }
}
