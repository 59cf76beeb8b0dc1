// Steps 1 and 2 of a pass, fetch and load: the newest commit of the source, validated whole against the
// schema and the host's policy. A valid commit becomes the desired state in force (and the last good one
// on disk); an invalid one is refused, journaled, and the state in force stays (after a restart, the last
// good commit is read again from git). Conditions: the source's error (set on a failed fetch, cleared on
// a good one) and the desired state's errors (set by a refused commit, cleared by a valid one).
import { errorMessage } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { DesiredState } from '../../core/app.js';
import type { HostView } from '../../core/host.js';
import type { Source } from '../../core/source.js';
import type { LastGoodStore } from '../../core/stores.js';
import { loadCommit } from '../../desired/load-commit.js';
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
}

/** Updates the desired state in force in `memory`. False when the fetch failed (the loop backs off). */
export async function fetchAndLoad(deps: SourceDeps, memory: Memory, out: Outcome): Promise<boolean> {
  const { source, clock } = deps;
  const { status, log } = out;
  try {
    const fetchStart = clock.now();
    const snapshot = await source.latest();
    memory.fetchMs = clock.now() - fetchStart;
    status.fetched(snapshot.commit);
    if (snapshot.commit === memory.loadedCommit) return true;
    const loaded = await loadCommit(snapshot, deps.policy, source, deps.host);
    memory.loadedCommit = snapshot.commit;
    if (loaded.ok) {
      memory.desired = loaded.state;
      memory.desiredInfo = snapshot.info;
      status.desiredAttempted(snapshot.commit, []);
      await deps.lastGood.save(snapshot.commit).catch((e) => log.warn({ err: errorMessage(e) }, 'cannot record the last good commit'));
      log.info({ commit: snapshot.commit, apps: loaded.state.apps.map((a) => a.name), author: snapshot.info.author }, 'new desired state');
      return true;
    }
    const errors = loaded.errors.map((e) => e.toString());
    status.desiredAttempted(snapshot.commit, errors);
    for (const e of errors) log.error({ commit: snapshot.commit, reason: 'ValidationFailed' }, e);
    await out.record({ app: '*', commit: snapshot.commit, ...commitFields(snapshot.info), changes: [], result: 'refused', reason: 'ValidationFailed', detail: errors.join('\n') });
    memory.desired ??= await recoverLastGood(deps, memory, out);
    log.error({ commit: snapshot.commit, keeping: memory.desired?.commit }, 'commit refused: validation failed; nothing live was changed');
    return true;
  } catch (e) {
    status.fetchFailed(errorMessage(e));
    log.warn({ err: errorMessage(e), reason: 'FetchFailed' }, 'fetch failed; keeping the last good state');
    return false;
  }
}

/** After a restart onto an invalid tip: the last good commit recorded on disk, read again from git. */
async function recoverLastGood(deps: SourceDeps, memory: Memory, out: Outcome): Promise<DesiredState | undefined> {
  const commit = await deps.lastGood.load();
  if (!commit) return undefined;
  try {
    const snapshot = await deps.source.at(commit);
    const loaded = await loadCommit(snapshot, deps.policy, deps.source, deps.host);
    if (!loaded.ok) return undefined;
    out.status.desiredInForce(commit);
    memory.desiredInfo = snapshot.info;
    return loaded.state;
  } catch (e) {
    out.log.warn({ commit, err: errorMessage(e) }, 'cannot read the last good commit');
    return undefined;
  }
}
