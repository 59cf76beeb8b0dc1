// A plan as people and programs read it: per app one action (no change, create, flip, replace, remove,
// update) and its changes; then the apps that left the repository.
import { describe, isNoop, type AppPlan, type Plan } from './plan.js';

export type Action = 'no change' | 'create' | 'flip' | 'replace' | 'remove' | 'update';

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
}

export function planReport(plan: Plan): PlanReport {
  const apps = plan.apps.map((p) => ({ app: p.app.name, action: actionOf(p), changes: describe(p) }));
  const prune = plan.prune.map((p) => ({ app: p.app, targets: p.targets.length, routed: p.routed }));
  return { commit: plan.commit, changes: apps.some((a) => a.action !== 'no change') || prune.length > 0, apps, prune };
}

export function renderPlan(report: PlanReport, source: string): string {
  const lines = [`plan for ${report.commit.slice(0, 12)} (${source}):`];
  const width = Math.max(0, ...report.apps.map((a) => a.app.length), ...report.prune.map((p) => p.app.length));
  for (const a of report.apps) lines.push(`  ${a.app.padEnd(width)}  ${a.action}${a.changes.length ? `: ${a.changes.join('; ')}` : ''}`);
  for (const p of report.prune) lines.push(`  ${p.app.padEnd(width)}  remove: gone from the repository; ${p.routed ? 'stop serving it, ' : ''}remove ${p.targets} target(s)`);
  const changed = report.apps.filter((a) => a.action !== 'no change').length + report.prune.length;
  lines.push(changed ? `${changed} app(s) would change. Nothing was changed.` : 'No changes.');
  return `${lines.join('\n')}\n`;
}
