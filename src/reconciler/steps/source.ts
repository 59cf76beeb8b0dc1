// Steps 1 and 2 of a pass, fetch, verify and load: the commit the followed ref points at, its signature
// checked when `verify` is set (desired/verify.ts), then validated whole against the schema and the
// host's policy. A verified, valid commit becomes the desired state in force (and the last good one on
// disk); any other is refused, journaled and notified, and the state in force stays (after a restart,
// the last good commit is read again from git, and verified again). A refused commit is not looked at
// again until the ref moves. Conditions: the source's error (set on a failed fetch, cleared on a good
// one) and the desired state's errors and reason (set by a refused commit, cleared by a good one).
import { errorMessage } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { DesiredState } from '../../core/app.js';
import type { HostView } from '../../core/host.js';
import type { Signer } from '../../core/signature.js';
import type { Snapshot, Source } from '../../core/source.js';
import type { LastGoodStore } from '../../core/stores.js';
import type { SwitchyardError } from '../../core/errors.js';
import { loadCommit } from '../../desired/load-commit.js';
import { verifySnapshot, type VerifyPolicy } from '../../desired/verify.js';
import type { Policy } from '../../policy/policy.js';
import type { Memory } from '../memory.js';
import { commitFields, type Outcome } from '../outcome.js';

export interface SourceDeps {
  source: Source;
  policy: Policy;
  lastGood: LastGoodStore;
  clock: Clock;
  /** How host paths are judged: resolved on the agent's host in production; as text when absent. */
  host?: HostView;
  /** Apply only what a listed key signed (the agent config's `verify`). */
  verify?: VerifyPolicy;
}

/** Updates the desired state in force in `memory`. False when the fetch failed (the loop backs off). */
export async function fetchAndLoad(deps: SourceDeps, memory: Memory, out: Outcome): Promise<boolean> {
  const { source, clock } = deps;
  const { status, log } = out;
  try {
    const fetchStart = clock.now();
    const snapshot = await source.latest();
    memory.fetchMs = clock.now() - fetchStart;
    out.fetched(memory.fetchMs);
    status.fetched(snapshot.commit);
    if (snapshot.commit === memory.loadedCommit) return true;
    await followRef(snapshot, memory, out);
    let signer: Signer | undefined;
    if (deps.verify) {
      const verified = await verifySnapshot(snapshot, deps.verify, clock.now());
      if (!verified.ok) {
        memory.loadedCommit = snapshot.commit;
        await refuse(deps, memory, out, snapshot, [verified.error], verified.fingerprint);
        return true;
      }
      signer = verified.signer;
      log.info({ commit: snapshot.commit, signed: verified.what, signer: signer.fingerprint, identity: signer.identity }, 'signature verified');
    }
    const loaded = await loadCommit(snapshot, deps.policy, source, deps.host);
    memory.loadedCommit = snapshot.commit;
    if (loaded.ok) {
      memory.desired = loaded.state;
      memory.desiredInfo = snapshot.info;
      status.desiredAttempted(snapshot.commit, [], signer ? { signer } : {});
      await deps.lastGood.save(snapshot.commit).catch((e) => log.warn({ err: errorMessage(e) }, 'cannot record the last good commit'));
      log.info({ commit: snapshot.commit, apps: loaded.state.apps.map((a) => a.name), author: snapshot.info.author }, 'new desired state');
      return true;
    }
    await refuse(deps, memory, out, snapshot, loaded.errors);
    return true;
  } catch (e) {
    status.fetchFailed(errorMessage(e));
    log.warn({ err: errorMessage(e), reason: 'FetchFailed' }, 'fetch failed; keeping the last good state');
    return false;
  }
}

/** A commit that failed verification or validation: said in the status, the log, the journal and a notification; the state in force stays. */
async function refuse(deps: SourceDeps, memory: Memory, out: Outcome, snapshot: Snapshot, problems: SwitchyardError[], fingerprint?: string): Promise<void> {
  const { status, log } = out;
  const reason = problems[0]!.code === 'UnverifiedCommit' ? 'UnverifiedCommit' : 'ValidationFailed';
  const errors = problems.map((e) => e.toString());
  status.desiredAttempted(snapshot.commit, errors, { reason, ...(fingerprint ? { fingerprint } : {}) });
  for (const e of errors) log.error({ commit: snapshot.commit, reason, ...(fingerprint ? { fingerprint } : {}) }, e);
  await out.record({ app: '*', commit: snapshot.commit, ...commitFields(snapshot.info), changes: [], result: 'refused', reason, detail: errors.join('\n') });
  out.commitStatus(snapshot.commit, 'switchyard', 'failure', `${reason}: ${errors[0]}`);
  out.notify({ event: 'commit-refused', reason, commit: snapshot.commit, ...(fingerprint ? { fingerprint } : {}), message: errors.join('\n') });
  memory.desired ??= await recoverLastGood(deps, memory, out);
  log.error({ commit: snapshot.commit, reason, keeping: memory.desired?.commit }, `commit refused: ${reason === 'UnverifiedCommit' ? 'no good signature by a listed key' : 'validation failed'}; nothing live was changed`);
}

/** A followed tag that now points at another commit is said in the log and the journal: tags are meant not to move. */
async function followRef(snapshot: Snapshot, memory: Memory, out: Outcome): Promise<void> {
  const before = memory.followed;
  if (snapshot.ref) memory.followed = { ref: snapshot.ref, commit: snapshot.commit };
  if (!before || !snapshot.ref?.startsWith('refs/tags/') || before.ref !== snapshot.ref || before.commit === snapshot.commit) return;
  const detail = `tag ${snapshot.ref.slice('refs/tags/'.length)} moved from ${before.commit.slice(0, 12)} to ${snapshot.commit.slice(0, 12)}`;
  out.log.warn({ ref: snapshot.ref, from: before.commit, to: snapshot.commit }, detail);
  await out.record({ app: '*', commit: snapshot.commit, ...commitFields(snapshot.info), changes: [], result: 'moved', detail });
}

/** After a restart onto a refused tip: the last good commit recorded on disk, read again from git (and verified again). */
async function recoverLastGood(deps: SourceDeps, memory: Memory, out: Outcome): Promise<DesiredState | undefined> {
  const commit = await deps.lastGood.load();
  if (!commit) return undefined;
  try {
    const snapshot = await deps.source.at(commit);
    // A tag is not kept with the last good commit: in tag mode nothing is recovered, and nothing is applied until a verified tag arrives.
    const verified = deps.verify && deps.verify.mode === 'head' ? await verifySnapshot(snapshot, deps.verify, deps.clock.now()) : undefined;
    if (deps.verify) {
      if (!verified?.ok) {
        out.log.warn({ commit }, `the last good commit cannot be verified again${verified ? `: ${verified.error.message}` : ' (verify.mode tag)'}; applying nothing until a verified commit arrives`);
        return undefined;
      }
    }
    const loaded = await loadCommit(snapshot, deps.policy, deps.source, deps.host);
    if (!loaded.ok) return undefined;
    out.status.desiredInForce(commit, verified?.ok ? verified.signer : undefined);
    memory.desiredInfo = snapshot.info;
    return loaded.state;
  } catch (e) {
    out.log.warn({ commit, err: errorMessage(e) }, 'cannot read the last good commit');
    return undefined;
  }
}
