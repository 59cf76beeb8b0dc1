// A commit's desired state: its app files validated (pure), then the build contexts it names read from
// the same commit and hashed into image tags. Either step's errors refuse the commit whole.
import type { HostView } from '../core/host.js';
import type { Policy } from '../policy/policy.js';
import type { Snapshot, Source } from '../core/source.js';
import { resolveBuilds } from './builds.js';
import { loadDesired, type LoadResult } from './load.js';

export async function loadCommit(snapshot: Snapshot, policy: Policy, source: Pick<Source, 'folder'>, host?: HostView): Promise<LoadResult> {
  const loaded = loadDesired(snapshot.commit, snapshot.files, policy, host);
  if (!loaded.ok) return loaded;
  return resolveBuilds(loaded.state, (dir) => source.folder(snapshot.commit, dir), { offline: policy.buildNetwork === 'none' });
}
