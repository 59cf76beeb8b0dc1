// The Reverter over http(s): the followed branch is fetched (two commits deep) into a cache of its own,
// and when the commit to revert is still its tip, a commit whose tree is that commit's first parent's
// tree (what `git revert` makes of the tip; `-m 1` for a merge) is written, authored as the agent, and
// pushed without force. A branch that moved on, a protected branch or a lost race is said, not fought.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { errorMessage } from '../../core/errors.js';
import type { RevertResult, Reverter } from '../../core/reverter.js';
import { gitHttp } from './git-http.js';
import { isRemote, redactSecrets } from './git-source.js';

export interface GitReverterOptions {
  repo: string;
  branch: string;
  cacheDir: string;
  /** Who the revert is by: the agent. */
  author: { name: string; email: string };
  /** Credentials that may push, asked for at each push. */
  auth?: () => { username: string; password: string } | undefined;
  timeoutMs?: number;
}

export class GitReverter implements Reverter {
  private readonly gitdir: string;

  constructor(private readonly opts: GitReverterOptions) {
    this.gitdir = join(opts.cacheDir, createHash('sha256').update(`revert\n${opts.repo}\n${opts.branch}`).digest('hex').slice(0, 16));
  }

  async revert(commit: string, reason: string): Promise<RevertResult> {
    const { repo, branch, author } = this.opts;
    if (!isRemote(repo)) return { ok: false, why: `the repository ${repo} is a local path: the agent pushes reverts over http(s) only` };
    const onAuth = this.opts.auth ? () => this.opts.auth!() ?? {} : undefined;
    const secret = this.opts.auth?.()?.password;
    const said = (e: unknown) => redactSecrets(errorMessage(e), secret);
    const remote: string[] = [];
    try {
      await fs.promises.rm(this.gitdir, { recursive: true, force: true });
      await fs.promises.mkdir(this.gitdir, { recursive: true });
      await git.init({ fs, gitdir: this.gitdir, bare: true });
      await git.addRemote({ fs, gitdir: this.gitdir, remote: 'origin', url: repo, force: true });
      const http = gitHttp(this.opts.timeoutMs);
      const fetched = await git.fetch({ fs, http, gitdir: this.gitdir, remote: 'origin', ref: branch, singleBranch: true, depth: 2, tags: false, onAuth });
      if (http.timedOut) throw http.timedOut;
      const tip = fetched.fetchHead;
      if (tip !== commit) return { ok: false, why: `${branch} moved on since (its tip is ${tip?.slice(0, 12)}); not reverting ${commit.slice(0, 12)} under someone else's commit` };
      const { commit: bad } = await git.readCommit({ fs, gitdir: this.gitdir, oid: commit });
      const parent = bad.parent[0];
      if (!parent) return { ok: false, why: `${commit.slice(0, 12)} is the first commit of ${branch}: there is nothing to revert to` };
      const { commit: before } = await git.readCommit({ fs, gitdir: this.gitdir, oid: parent });
      const subject = bad.message.split('\n')[0];
      const now = { name: author.name, email: author.email, timestamp: Math.floor(Date.now() / 1000), timezoneOffset: 0 };
      const message = `Revert "${subject}"\n\nThis reverts commit ${commit}.\n\n${reason}\n`;
      const oid = await git.writeCommit({ fs, gitdir: this.gitdir, commit: { message, tree: before.tree, parent: [commit], author: now, committer: now } });
      await git.writeRef({ fs, gitdir: this.gitdir, ref: `refs/heads/${branch}`, value: oid, force: true });
      const pushHttp = gitHttp(this.opts.timeoutMs);
      try {
        const pushed = await git.push({ fs, http: pushHttp, gitdir: this.gitdir, remote: 'origin', ref: branch, remoteRef: branch, onAuth, onMessage: (m) => void remote.push(m.trim()) });
        if (pushHttp.timedOut) throw pushHttp.timedOut;
        if (!pushed.ok) throw new Error(pushed.error ?? JSON.stringify(pushed.refs));
      } catch (e) {
        // What the server said (a hook's words, "protected branch") is the useful part.
        const words = remote.filter(Boolean).join(' ');
        return { ok: false, why: `the server refused the push to ${branch}: ${said(e).replace(/\s+/g, ' ').trim()}${words ? ` (the server said: ${words})` : ''}` };
      }
      return { ok: true, commit: oid, branch };
    } catch (e) {
      return { ok: false, why: `the revert could not be made for ${branch}: ${said(e)}` };
    }
  }
}
