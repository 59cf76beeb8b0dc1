// Step 7, prune: apps gone from the repository stop accepting connections, their requests in flight
// finish (up to the app's drain timeout), then their containers go and the app leaves the status.
// The decision (decide.ts) already refused to prune anything when the desired state has no apps.
import type { Router } from '../../core/route.js';
import type { Runtime } from '../../core/runtime.js';
import type { PrunePlan } from '../../plan/plan.js';
import type { Memory } from '../memory.js';
import type { Outcome } from '../outcome.js';

export async function prune(apps: readonly PrunePlan[], refused: readonly PrunePlan[], deps: { runtime: Runtime; router: Router }, memory: Memory, out: Outcome, commit: string): Promise<void> {
  if (refused.length) {
    out.log.warn({ apps: refused.map((p) => p.app), commit }, 'desired state has no apps: refusing to prune everything (add an app, or remove containers by hand)');
  }
  for (const p of apps) {
    out.log.info({ app: p.app, targets: p.targets.length }, 'pruning app removed from the repository');
    if (p.routed) {
      await deps.router.remove(p.app);
      // Requests already on its targets finish (up to the app's drain timeout) before the targets go.
      const left = await deps.router.drain(p.targets.map((t) => t.id), p.drainTimeoutMs);
      if (left) out.log.warn({ app: p.app, inFlight: left }, 'drain timeout reached; removing targets with requests still in flight');
    }
    await Promise.all(p.targets.map((t) => deps.runtime.remove(t.id)));
    out.status.removeApp(p.app);
    await memory.forgetApp(p.app);
  }
}
