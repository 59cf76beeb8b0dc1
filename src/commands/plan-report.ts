// A plan as people and programs read it: per app one action (no change, create, flip, replace, remove,
// update, or why the agent leaves it alone: suspended, held) and its changes; then the apps that left the
// repository, and those it would not prune.
import { describeSigner, type Signer } from '../core/signature.js';
import { errorMessage } from '../core/errors.js';
import { describe, isNoop, type AppPlan } from '../plan/plan.js';
import { heldText, type Decision, type Hold } from '../reconciler/steps/decide.js';

export type Action = 'no change' | 'create' | 'flip' | 'replace' | 'remove' | 'update' | 'suspended' | 'held';

export function actionOf(p: AppPlan): Action {
  if (isNoop(p)) return 'no change';
  const from = p.currentRoute?.color;
  if (from && from !== p.app.active) return 'flip';
  if (p.create.length && (p.retire.length || p.remove.length)) return 'replace';
  if (p.create.length) return 'create';
  if (p.remove.length || p.retire.length) return 'remove';
  return 'update';
}

export interface PlanReport {
  commit: string;
  changes: boolean;
  apps: { app: string; action: Action; changes: string[] }[];
  prune: { app: string; targets: number; routed: boolean }[];
  /** Gone from the repository but kept: the commit has no apps at all (the empty-prune guard). */
  notPruned?: string[];
  /** With `verify`: the key whose signature the commit (or its tag) passed with. */
  signer?: Signer;
}

/** Why the agent leaves an app alone, in words. */
function holdText(hold: Hold): string[] {
  if (hold.why === 'suspended') return ['nothing about it changes until `switchyard resume`'];
  if (hold.why === 'unreadable') return hold.errors.map((e) => `${e.code === 'SecretUnavailable' ? 'env file unreadable' : 'certificate unusable'} (${e.code}): ${errorMessage(e)}; the app is left as it is`);
  return [`${heldText(hold)}; only what serves it is healed`];
}

export function planReport(decision: Decision): PlanReport {
  const apps = decision.apps.map(({ plan: p, hold }) =>
    hold ? { app: p.app.name, action: (hold.why === 'suspended' ? 'suspended' : 'held') as Action, changes: holdText(hold) } : { app: p.app.name, action: actionOf(p), changes: describe(p) },
  );
  const prune = decision.prune.map((p) => ({ app: p.app, targets: p.targets.length, routed: p.routed }));
  const changes = apps.some((a) => a.action !== 'no change' && a.action !== 'suspended' && a.action !== 'held') || prune.length > 0;
  return { commit: decision.commit, changes, apps, prune, ...(decision.pruneRefused.length ? { notPruned: decision.pruneRefused.map((p) => p.app) } : {}) };
}

export function renderPlan(report: PlanReport, source: string): string {
  const lines = [`plan for ${report.commit.slice(0, 12)} (${source}):`];
  if (report.signer) lines.push(`  signature: verified, ${describeSigner(report.signer)}`);
  const width = Math.max(0, ...report.apps.map((a) => a.app.length), ...report.prune.map((p) => p.app.length));
  for (const a of report.apps) lines.push(`  ${a.app.padEnd(width)}  ${a.action}${a.changes.length ? `: ${a.changes.join('; ')}` : ''}`);
  for (const p of report.prune) lines.push(`  ${p.app.padEnd(width)}  remove: gone from the repository; ${p.routed ? 'stop serving it, ' : ''}remove ${p.targets} target(s)`);
  if (report.notPruned) lines.push(`  not pruned: ${report.notPruned.join(', ')} (the commit has no apps: the agent never prunes everything)`);
  const changed = report.apps.filter((a) => !['no change', 'suspended', 'held'].includes(a.action)).length + report.prune.length;
  lines.push(changed ? `${changed} app(s) would change. Nothing was changed.` : 'No changes.');
  return `${lines.join('\n')}\n`;
}
