// What the agent follows in its repository: a branch, a tag, the newest tag in a semver range (like
// Flux's ref.semver), a pinned commit, or (for `switchyard plan`) any other full ref such as
// refs/pull/N/head. Parsed once, from the config or a flag.
import semver from 'semver';
import { SwitchyardError } from './errors.js';

export type GitRef =
  | { kind: 'branch'; name: string }
  | { kind: 'tag'; name: string }
  | { kind: 'semver'; range: string }
  | { kind: 'commit'; sha: string }
  | { kind: 'ref'; name: string };

const SHA = /^[0-9a-f]{40}$/;

/** `ref`: a branch, refs/heads/NAME, refs/tags/NAME, a full commit id, or another full ref; `range` wins over a branch. */
export function parseRef(ref: string, range?: string, field = 'ref'): GitRef {
  if (range !== undefined) {
    if (!semver.validRange(range)) throw new SwitchyardError('UsageError', `semver "${range}" is not a version range`, { location: { field: 'semver' }, hint: 'e.g. ">=1.2.0 <2" or "^1.4"' });
    if (SHA.test(ref) || ref.startsWith('refs/')) throw new SwitchyardError('UsageError', `semver and ${field} "${ref}" both say what to follow`, { location: { field: 'semver' }, hint: `keep one: semver follows tags, ${field} a branch, tag or commit` });
    return { kind: 'semver', range };
  }
  if (SHA.test(ref)) return { kind: 'commit', sha: ref };
  if (/^[0-9a-f]{7,39}$/.test(ref)) throw new SwitchyardError('UsageError', `${field} "${ref}" looks like a short commit id`, { location: { field }, hint: 'pin the full 40-character id (git rev-parse)' });
  if (ref.startsWith('refs/heads/')) return { kind: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', name: ref.slice('refs/tags/'.length) };
  if (ref.startsWith('refs/')) return { kind: 'ref', name: ref };
  return { kind: 'branch', name: ref };
}

export function describeRef(ref: GitRef): string {
  switch (ref.kind) {
    case 'branch':
      return ref.name;
    case 'tag':
      return `refs/tags/${ref.name}`;
    case 'semver':
      return `semver ${ref.range}`;
    case 'commit':
      return ref.sha;
    case 'ref':
      return ref.name;
  }
}

/** The full ref name to ask the server for (none for a range or a commit). */
export function fullRefName(ref: GitRef): string | undefined {
  return ref.kind === 'branch' ? `refs/heads/${ref.name}` : ref.kind === 'tag' ? `refs/tags/${ref.name}` : ref.kind === 'ref' ? ref.name : undefined;
}

/** The newest tag whose name (a leading v allowed) is a version in `range`; prereleases only when the range names one. */
export function newestInRange(tags: readonly string[], range: string): string | undefined {
  let best: { tag: string; version: string } | undefined;
  for (const tag of tags) {
    const version = semver.valid(tag.replace(/^v/, ''));
    if (!version || !semver.satisfies(version, range)) continue;
    if (!best || semver.gt(version, best.version)) best = { tag, version };
  }
  return best?.tag;
}
