// A git Source on isomorphic-git: a remote http(s) repository fetched shallow, one ref at a time, into a
// private cache, or a local repository read straight from its committed objects (never its work tree).
// The ref is a branch, a tag (followed when it moves), the newest tag in a semver range, or a pinned
// commit (never moves: no round trip once fetched).
// A snapshot is built only from a commit whose objects are all present, so a failed fetch can never
// yield half a commit.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import git from 'isomorphic-git';
import { errorMessage, SwitchyardError } from '../../core/errors.js';
import { gitHttp } from './git-http.js';
import { describeRef, fullRefName, newestInRange, type GitRef } from '../../core/git-ref.js';
import { splitCommit, splitTag } from './signed-object.js';
import type { SignedObject } from '../../core/signature.js';
import type { Snapshot, SnapshotFile, Source } from '../../core/source.js';

/** How many packs the fetch cache may hold before it is rebuilt. */
export const MAX_PACKS = 50;

export interface GitSourceOptions {
  /** http(s) URL, or a path to a local repository (bare or with a work tree). */
  repo: string;
  /** What to follow: a branch, a tag, a semver range of tags, a pinned commit, another full ref. */
  ref: GitRef;
  /** Folder inside the repository that holds `apps/` (like Argo CD's `path`). Default: the root. */
  path?: string;
  /** Where remote repositories are cached. */
  cacheDir: string;
  /** Names the cache inside cacheDir (default: the repository and the ref; `switchyard plan` shares one for every ref). */
  cacheKey?: string;
  /** Credentials for http(s), asked for at each request (a rotated token counts at once); never logged. */
  auth?: () => { username: string; password: string } | undefined;
  /** Packs the fetch cache may hold before it is rebuilt (default MAX_PACKS). */
  maxPacks?: number;
  /** How long the server may send nothing before a fetch fails (default GIT_IDLE_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Where the ref points: the object to fetch (a commit, or an annotated tag) and the full ref that led there. */
interface Resolved {
  object: string;
  /** A full ref name, or the pinned commit. */
  ref: string;
}

/**
 * The commit checked out in the work tree that holds `dir` (its HEAD), as a source of that one commit:
 * what `switchyard validate` judges. Throws when `dir` is in no repository, or one with no commit yet.
 */
export async function checkedOutCommit(dir: string): Promise<Snapshot> {
  const repo = await git.findRoot({ fs, filepath: resolve(dir) });
  const sha = await git.resolveRef({ fs, dir: repo, ref: 'HEAD' });
  return new GitSource({ repo, ref: { kind: 'commit', sha }, cacheDir: '' }).latest();
}

export function isRemote(repo: string): boolean {
  return /^https?:\/\//i.test(repo);
}

export class GitSource implements Source {
  readonly description: string;
  private readonly gitdir: string;
  private readonly remote: boolean;
  private readonly base: string;
  private last: { object: string; snapshot: Snapshot } | undefined;

  constructor(private readonly opts: GitSourceOptions) {
    this.remote = isRemote(opts.repo);
    this.base = (opts.path ?? '').replace(/^\/+|\/+$/g, '');
    this.description = `${redactUrl(opts.repo)}@${describeRef(opts.ref)}${this.base ? `:${this.base}` : ''}`;
    this.gitdir = this.remote
      ? join(opts.cacheDir, createHash('sha256').update(opts.cacheKey ?? `${opts.repo}\n${describeRef(opts.ref)}`).digest('hex').slice(0, 16))
      : localGitdir(opts.repo);
  }

  async latest(): Promise<Snapshot> {
    const resolved = this.remote ? await this.resolveRemote() : await this.resolveLocal();
    if (this.last?.object === resolved.object) return this.last.snapshot;
    if (this.remote && !(await this.has(resolved.object))) await this.fetch(resolved.ref);
    const snapshot = await this.snapshotOf(resolved);
    this.last = { object: resolved.object, snapshot };
    return snapshot;
  }

  /** The commit behind the resolved object: an annotated tag is peeled (as often as tags point at tags). */
  private async snapshotOf(resolved: Resolved): Promise<Snapshot> {
    let oid = resolved.object;
    let tag: SignedObject | undefined;
    try {
      for (let hops = 0; hops < 10; hops++) {
        const { type, object } = await git.readObject({ fs, gitdir: this.gitdir, oid, format: 'content' });
        if (type !== 'tag') break;
        tag ??= splitTag(oid, object as Uint8Array);
        oid = (await git.readTag({ fs, gitdir: this.gitdir, oid })).tag.object;
      }
    } catch (e) {
      throw fetchFailed(`cannot read ${resolved.ref} (${resolved.object.slice(0, 12)}) of ${this.opts.repo}: ${errorMessage(e)}`, 'the agent retries on the next pass', e);
    }
    return { ...(await this.at(oid)), ref: resolved.ref, ...(tag ? { tag } : {}) };
  }

  private async has(oid: string): Promise<boolean> {
    return git.readObject({ fs, gitdir: this.gitdir, oid, format: 'deflated' }).then(
      () => true,
      () => false,
    );
  }

  private async resolveLocal(): Promise<Resolved> {
    const { ref, repo } = this.opts;
    try {
      if (ref.kind === 'commit') {
        if (!(await this.has(ref.sha))) throw new Error(`commit ${ref.sha} is not in the repository`);
        return { object: ref.sha, ref: ref.sha };
      }
      const name = ref.kind === 'semver' ? await this.newestLocalTag(ref.range) : fullRefName(ref)!;
      return { object: await git.resolveRef({ fs, gitdir: this.gitdir, ref: name }), ref: name };
    } catch (e) {
      throw fetchFailed(`cannot read ${describeRef(ref)} of ${repo}: ${errorMessage(e)}`, 'check that the path is a git repository and that the ref exists', e);
    }
  }

  private async newestLocalTag(range: string): Promise<string> {
    const tags = await git.listTags({ fs, gitdir: this.gitdir });
    const tag = newestInRange(tags, range);
    if (!tag) throw new Error(`no tag matches semver "${range}" (tags: ${tags.slice(0, 10).join(', ') || 'none'})`);
    return `refs/tags/${tag}`;
  }

  /** One ls-refs round trip (none for a pinned commit): when the ref has not moved, nothing is downloaded. */
  private async resolveRemote(): Promise<Resolved> {
    const { ref, repo } = this.opts;
    if (ref.kind === 'commit') return { object: ref.sha, ref: ref.sha };
    const name = fullRefName(ref);
    let refs: Awaited<ReturnType<typeof git.listServerRefs>>;
    try {
      const http = gitHttp(this.opts.timeoutMs);
      refs = await git.listServerRefs({ http, url: repo, prefix: name ?? 'refs/tags/', peelTags: true, onAuth: this.onAuth() });
      if (http.timedOut) throw http.timedOut;
    } catch (e) {
      throw fetchFailed(`cannot reach ${redactUrl(repo)}: ${errorMessage(e)}`, 'check the URL, the network and the credentials (repoAuth in the config, or SWITCHYARD_GIT_USERNAME / SWITCHYARD_GIT_PASSWORD)', e, this.secret());
    }
    let found = refs.find((r) => r.ref === name);
    if (ref.kind === 'semver') {
      const tags = refs.map((r) => r.ref.slice('refs/tags/'.length));
      const tag = newestInRange(tags, ref.range);
      if (!tag) throw fetchFailed(`no tag on ${redactUrl(repo)} matches semver "${ref.range}" (tags: ${tags.slice(0, 10).join(', ') || 'none'})`, 'push a tag in the range, or change semver');
      found = refs.find((r) => r.ref === `refs/tags/${tag}`);
    }
    if (!found) throw fetchFailed(`${ref.kind === 'branch' ? `branch "${ref.name}"` : describeRef(ref)} not found on ${redactUrl(repo)}`, 'check ref in the agent config (or --ref)');
    return { object: found.oid, ref: found.ref };
  }

  private secret(): string | undefined {
    return this.opts.auth?.()?.password;
  }

  private onAuth() {
    const { auth } = this.opts;
    return auth ? () => auth() ?? {} : undefined;
  }

  /** Fetches one ref, or one commit by id (smart-HTTP servers answer a want of any commit reachable from their refs), shallow. */
  private async fetch(want: string): Promise<void> {
    try {
      await this.boundCache();
      await fs.promises.mkdir(this.gitdir, { recursive: true });
      await git.init({ fs, gitdir: this.gitdir, bare: true });
      await git.addRemote({ fs, gitdir: this.gitdir, remote: 'origin', url: this.opts.repo, force: true });
      const http = gitHttp(this.opts.timeoutMs);
      const result = await git.fetch({ fs, http, gitdir: this.gitdir, remote: 'origin', ref: want, singleBranch: true, depth: 1, tags: false, onAuth: this.onAuth() });
      if (http.timedOut) throw http.timedOut;
      if (!result.fetchHead) throw new Error('the server sent no commit');
    } catch (e) {
      const pinned = /^[0-9a-f]{40}$/.test(want);
      throw fetchFailed(
        `fetch of ${want} from ${redactUrl(this.opts.repo)} failed: ${errorMessage(e)}`,
        pinned ? 'a pinned commit must be reachable from a branch or tag of the server; check the id' : 'the agent retries on the next pass; check the server if it persists',
        e,
        this.secret(),
      );
    }
  }

  /**
   * Every fetch adds a pack and isomorphic-git never repacks: past maxPacks the cache is dropped and
   * the next fetch starts afresh (shallow, so that is one small download). Commits older than the tip
   * may then have to be fetched again; the snapshot in memory is unaffected.
   */
  private async boundCache(): Promise<void> {
    const packs = await fs.promises.readdir(join(this.gitdir, 'objects', 'pack')).catch(() => [] as string[]);
    if (packs.filter((f) => f.endsWith('.pack')).length <= (this.opts.maxPacks ?? MAX_PACKS)) return;
    await fs.promises.rm(this.gitdir, { recursive: true, force: true });
  }

  async folder(commit: string, dir: string): Promise<SnapshotFile[]> {
    const root = [this.base, dir.replace(/^\/+|\/+$/g, '')].filter(Boolean).join('/');
    const files: SnapshotFile[] = [];
    const walk = async (oid: string, prefix: string): Promise<void> => {
      for (const entry of (await git.readTree({ fs, gitdir: this.gitdir, oid })).tree) {
        const path = `${prefix}${entry.path}`;
        if (entry.type === 'tree') await walk(entry.oid, `${path}/`);
        else if (entry.type !== 'blob') continue;
        else if (entry.mode === '120000') files.push({ path, content: new Uint8Array(), symlink: true });
        else files.push({ path, content: (await git.readBlob({ fs, gitdir: this.gitdir, oid: entry.oid })).blob, ...(entry.mode === '100755' ? { executable: true } : {}) });
      }
    };
    try {
      const { oid } = await git.readTree({ fs, gitdir: this.gitdir, oid: commit, filepath: root });
      await walk(oid, '');
    } catch (e) {
      if ((e as { code?: string }).code === 'NotFoundError') return [];
      throw fetchFailed(`cannot read ${root} at commit ${commit.slice(0, 12)}: ${errorMessage(e)}`, 'the agent retries on the next pass', e);
    }
    return files;
  }

  async at(commit: string): Promise<Snapshot> {
    try {
      const { commit: c } = await git.readCommit({ fs, gitdir: this.gitdir, oid: commit });
      const appsDir = this.base ? `${this.base}/apps` : 'apps';
      const files: SnapshotFile[] = [];
      let entries: Awaited<ReturnType<typeof git.readTree>>['tree'] = [];
      try {
        entries = (await git.readTree({ fs, gitdir: this.gitdir, oid: commit, filepath: appsDir })).tree;
      } catch (e) {
        if ((e as { code?: string }).code !== 'NotFoundError') throw e;
      }
      for (const entry of entries) {
        if (entry.type !== 'blob') continue;
        const path = `${appsDir}/${entry.path}`;
        // Symlinks are blobs too (mode 120000). They are never followed: validation refuses them.
        if (entry.mode === '120000') files.push({ path, content: new Uint8Array(), symlink: true });
        else files.push({ path, content: (await git.readBlob({ fs, gitdir: this.gitdir, oid: entry.oid })).blob });
      }
      const { object: raw } = await git.readObject({ fs, gitdir: this.gitdir, oid: commit, format: 'content' });
      return {
        commit,
        info: { author: `${c.author.name} <${c.author.email}>`, message: c.message.trim(), timestamp: c.author.timestamp },
        files,
        signed: splitCommit(commit, raw as Uint8Array),
      };
    } catch (e) {
      throw fetchFailed(`cannot read commit ${commit.slice(0, 12)}: ${errorMessage(e)}`, 'the agent retries on the next pass', e);
    }
  }
}

/**
 * Errors from isomorphic-git and the transport may quote the URL with its credentials: never passed on.
 * `secret` (the password or token in use) is cut wherever it stands, should a server echo it.
 */
function fetchFailed(message: string, hint: string, cause?: unknown, secret?: string): SwitchyardError {
  // A forge says why in its answer's body ("HTTP Basic: Access denied ..."): its first line goes with the status.
  const body = (cause as { data?: { response?: unknown } } | undefined)?.data?.response;
  const said = typeof body === 'string' && body.trim() ? `: ${body.trim().split('\n')[0]!.slice(0, 200)}` : '';
  return new SwitchyardError('FetchFailed', redactSecrets(message + said, secret), { hint, cause });
}

function localGitdir(repo: string): string {
  const dotGit = join(repo, '.git');
  return fs.existsSync(dotGit) ? dotGit : repo;
}

/** redactUrl, and `secret` (the password or token in use) cut wherever it stands. */
export function redactSecrets(text: string, secret?: string): string {
  const redacted = redactUrl(text);
  return secret ? redacted.split(secret).join('***') : redacted;
}

const SECRET_PARAMS = /([?&](?:access_token|private_token|token|password|passwd|secret|key|sig|signature)=)[^&#\s]*/gi;

/**
 * Never print credentials in a URL, wherever it stands in `text`: the user info (up to the last `@` before
 * the host, so a password with an `@` in it goes too) and query parameters that carry a secret.
 */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi, '$1***@').replace(SECRET_PARAMS, '$1***');
}
