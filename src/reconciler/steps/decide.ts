// Step 5, plan, with the agent's guards: the pure plan of desired against live state, then what the
// agent will not touch this pass. Pure, and shared by the pass and `switchyard plan`, so that a preview
// never predicts a change the agent would not make.
//   - a suspended app is left exactly as it is (and never pruned);
//   - an app with an env file or a certificate that cannot be used is left as it is (and never pruned);
//   - an app whose newest commit failed for a reason that needs a human is not applied again for that
//     commit: only what serves it is healed, from the last applied spec;
//   - a desired state with no apps never prunes (a guard like Argo CD's allowEmpty).
import type { DesiredState } from '../../core/app.js';
import type { Entrypoints } from '../../core/route.js';
import type { SwitchyardError } from '../../core/errors.js';
import { isNoop, plan, type AppPlan, type LiveState, type PrunePlan } from '../../plan/plan.js';
import type { FailedCommit } from '../../core/stores.js';

export interface Guards {
  suspended: ReadonlySet<string>;
  /** Per app, the env files and certificates that could not be used. */
  unreadable: ReadonlyMap<string, readonly SwitchyardError[]>;
  /** Per app, the commit that failed for a reason that needs a human. */
  failed: ReadonlyMap<string, FailedCommit>;
}

export type Hold = { app: string; why: 'suspended' } | { app: string; why: 'unreadable'; errors: readonly SwitchyardError[] } | ({ app: string; why: 'failed' } & FailedCommit);

export interface Decision {
  commit: string;
  /**
   * Every app of the desired state, in order, with its plan: carried out as planned when it has no hold
   * (no-ops included: they settle the app's status); else left alone this pass, and why (`failed` ones
   * only have what serves them healed).
   */
  apps: { plan: AppPlan; hold?: Hold }[];
  prune: PrunePlan[];
  /** Apps gone from the repository that are not pruned because the desired state has no apps at all. */
  pruneRefused: PrunePlan[];
}

/** A held commit in words, the same in the agent's status and in `switchyard plan`. */
export function heldText(failed: FailedCommit): string {
  const why = failed.reason ? ` (${failed.reason}${failed.message ? `: ${failed.message}` : ''})` : '';
  return `commit ${failed.commit.slice(0, 12)} failed for this app${why} and is not retried (a new commit or \`switchyard sync\` retries it)`;
}

/** Why the agent leaves this app's plan alone this pass, or undefined when it carries it out. */
export function holdOf(p: AppPlan, guards: Guards): Hold | undefined {
  const app = p.app.name;
  if (guards.suspended.has(app)) return { app, why: 'suspended' };
  const errors = guards.unreadable.get(app);
  if (errors) return { app, why: 'unreadable', errors };
  // A plan with nothing to do clears the failure: the host already matches the commit.
  const failed = guards.failed.get(app);
  if (failed?.commit === p.commit && !isNoop(p)) return { app, why: 'failed', ...failed };
  return undefined;
}

export function decide(desired: DesiredState, live: LiveState, guards: Guards, at: Entrypoints, now: number): Decision {
  const p = plan(desired, live, at, now);
  const apps = p.apps.map((ap) => {
    const hold = holdOf(ap, guards);
    return hold ? { plan: ap, hold } : { plan: ap };
  });
  const prune = p.prune.filter((x) => !guards.suspended.has(x.app));
  const empty = !desired.apps.length;
  return { commit: p.commit, apps, prune: empty ? [] : prune, pruneRefused: empty ? prune : [] };
}
