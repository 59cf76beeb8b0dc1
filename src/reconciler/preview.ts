// `switchyard plan`: the agent's own steps up to plan (verify, load, host files, observe, decide) on one snapshot,
// with the same guards (suspensions and failed commits as the agent recorded them, the empty-prune
// guard), so that a preview never predicts a change the agent would not make. It changes nothing.
import type { Clock } from '../core/clock.js';
import type { HostView } from '../core/host.js';
import type { SwitchyardError } from '../core/errors.js';
import type { Entrypoints, Router } from '../core/route.js';
import type { Runtime } from '../core/runtime.js';
import type { Snapshot, Source } from '../core/source.js';
import type { FailedCommitStore, SuspensionStore } from '../core/stores.js';
import { readHostFiles, type HostFileReaders } from '../desired/host-files.js';
import { loadCommit } from '../desired/load-commit.js';
import { verifySnapshot, type VerifyPolicy } from '../desired/verify.js';
import type { Signer } from '../core/signature.js';
import type { Policy } from '../policy/policy.js';
import { decide, type Decision } from './steps/decide.js';
import { observe } from './steps/observe.js';

export interface PreviewDeps extends HostFileReaders {
  source: Pick<Source, 'folder'>;
  policy: Policy;
  runtime: Pick<Runtime, 'list'>;
  router: Pick<Router, 'routes'>;
  suspensions: SuspensionStore;
  failedCommits: FailedCommitStore;
  entrypoints: Entrypoints;
  clock: Clock;
  host?: HostView;
  verify?: VerifyPolicy;
}

export async function preview(snapshot: Snapshot, deps: PreviewDeps): Promise<{ ok: true; decision: Decision; signer?: Signer } | { ok: false; errors: SwitchyardError[] }> {
  const verified = deps.verify ? await verifySnapshot(snapshot, deps.verify, deps.clock.now()) : undefined;
  if (verified && !verified.ok) return { ok: false, errors: [verified.error] };
  const loaded = await loadCommit(snapshot, deps.policy, deps.source, deps.host);
  if (!loaded.ok) return loaded;
  const { state, unreadable } = await readHostFiles(loaded.state, deps, deps.clock.now());
  const live = await observe(deps);
  const guards = { suspended: await deps.suspensions.load(), unreadable, failed: await deps.failedCommits.load() };
  return { ok: true, decision: decide(state, live, guards, deps.entrypoints, deps.clock.now()), ...(verified?.ok ? { signer: verified.signer } : {}) };
}
