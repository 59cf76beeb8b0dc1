// A git Source on isomorphic-git: a remote http(s) repository fetched shallow and single-branch into a
// private cache, or a local repository read straight from its committed objects (never its work tree).
// A snapshot is built only from a commit whose objects are all present, so a failed fetch can never
// yield half a commit.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { errorMessage, SwitchyardError } from '../../core/errors.js';
import { gitHttp } from './git-http.js';
import type { Snapshot, SnapshotFile, Source } from '../../core/source.js';

/** How many packs the fetch cache may hold before it is rebuilt. */
export const MAX_PACKS = 50;

export interface GitSourceOptions {
  /** http(s) URL, or a path to a local repository (bare or with a work tree). */
  repo: string;
  branch: string;
  /** Folder inside the repository that holds `apps/` (like Argo CD's `path`). Default: the root. */
  path?: string;
  /** Where remote repositories are cached. */
  cacheDir: string;
  /** Credentials for http(s); never logged. */
  auth?: { username: string; password: string };
  /** Packs the fetch cache may hold before it is rebuilt (default MAX_PACKS). */
  maxPacks?: number;
  /** How long the server may send nothing before a fetch fails (default GIT_IDLE_TIMEOUT_MS). */
  timeoutMs?: number;
}

export function isRemote(repo: string): boolean {
  return /^https?:\/\//i.test(repo);
}

export class GitSource implements Source {
  readonly description: string;
  private readonly gitdir: string;
  private readonly remote: boolean;
  private readonly base: string;
  private last: Snapshot | undefined;

  constructor(private readonly opts: GitSourceOptions) {
    this.remote = isRemote(opts.repo);
    this.base = (opts.path ?? '').replace(/^\/+|\/+$/g, '');
    this.description = `${redactUrl(opts.repo)}@${opts.branch}${this.base ? `:${this.base}` : ''}`;
    this.gitdir = this.remote
      ? join(opts.cacheDir, createHash('sha256').update(`${opts.repo}\n${opts.branch}`).digest('hex').slice(0, 16))
      : localGitdir(opts.repo);
  }

  async latest(): Promise<Snapshot> {
    const commit = await this.resolveCommit();
    if (this.last?.commit === commit) return this.last;
    const snapshot = await this.at(commit);
    this.last = snapshot;
    return snapshot;
  }

  private async resolveCommit(): Promise<string> {
    if (!this.remote) {
      try {
        return await git.resolveRef({ fs, gitdir: this.gitdir, ref: this.opts.branch });
      } catch (e) {
        throw fetchFailed(`cannot read branch "${this.opts.branch}" of ${this.opts.repo}: ${errorMessage(e)}`, 'check that the path is a git repository and the branch exists', e);
      }
    }
    const onAuth = this.opts.auth ? () => this.opts.auth! : undefined;
    // A cheap ls-refs first: when the branch has not moved, nothing is downloaded.
    let head: string | undefined;
    try {
      const http = gitHttp(this.opts.timeoutMs);
      const refs = await git.listServerRefs({ http, url: this.opts.repo, prefix: `refs/heads/${this.opts.branch}`, onAuth });
      if (http.timedOut) throw http.timedOut;
      head = refs.find((r) => r.ref === `refs/heads/${this.opts.branch}`)?.oid;
    } catch (e) {
      throw fetchFailed(`cannot reach ${redactUrl(this.opts.repo)}: ${errorMessage(e)}`, 'check the URL, the network and the credentials (SWITCHYARD_GIT_USERNAME / SWITCHYARD_GIT_PASSWORD)', e);
    }
    if (!head) throw fetchFailed(`branch "${this.opts.branch}" not found on ${redactUrl(this.opts.repo)}`, 'check --branch');
    if (head === this.last?.commit) return head;
    try {
      await this.boundCache();
      await fs.promises.mkdir(this.gitdir, { recursive: true });
      await git.init({ fs, gitdir: this.gitdir, bare: true });
      await git.addRemote({ fs, gitdir: this.gitdir, remote: 'origin', url: this.opts.repo, force: true });
      const http = gitHttp(this.opts.timeoutMs);
      const result = await git.fetch({
        fs, http, gitdir: this.gitdir, remote: 'origin', ref: this.opts.branch,
        singleBranch: true, depth: 1, tags: false, onAuth,
      });
      if (http.timedOut) throw http.timedOut;
      if (!result.fetchHead) throw new Error('the server sent no commit');
      return result.fetchHead;
    } catch (e) {
      throw fetchFailed(`fetch of ${redactUrl(this.opts.repo)} failed: ${errorMessage(e)}`, 'the agent retries on the next pass; check the server if it persists', e);
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
      return {
        commit,
        info: { author: `${c.author.name} <${c.author.email}>`, message: c.message.trim(), timestamp: c.author.timestamp },
        files,
      };
    } catch (e) {
      throw fetchFailed(`cannot read commit ${commit.slice(0, 12)}: ${errorMessage(e)}`, 'the agent retries on the next pass', e);
    }
  }
}

/** Errors from isomorphic-git and the transport may quote the URL with its credentials: never passed on. */
function fetchFailed(message: string, hint: string, cause?: unknown): SwitchyardError {
  return new SwitchyardError('FetchFailed', redactUrl(message), { hint, cause });
}

function localGitdir(repo: string): string {
  const dotGit = join(repo, '.git');
  return fs.existsSync(dotGit) ? dotGit : repo;
}

const SECRET_PARAMS = /([?&](?:access_token|private_token|token|password|passwd|secret|key|sig|signature)=)[^&#\s]*/gi;

/**
 * Never print credentials in a URL, wherever it stands in `text`: the user info (up to the last `@` before
 * the host, so a password with an `@` in it goes too) and query parameters that carry a secret.
 */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi, '$1***@').replace(SECRET_PARAMS, '$1***');
}
