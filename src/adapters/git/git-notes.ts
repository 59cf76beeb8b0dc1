// The audit trail in git itself: a note on each commit the agent attempts, under refs/notes/switchyard,
// one line per app (and one for the commit as a whole when it was refused) saying when it went live or
// why it did not. `git fetch origin refs/notes/switchyard:refs/notes/switchyard && git log
// --notes=switchyard` shows them beside the commits. It takes the commit statuses the agent already
// reports (core/commit-status.ts): a local repository gets the note written into it; a remote one gets
// it pushed (without force: a rejected push is fetched again, merged and retried).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import type { CommitReporter, CommitState, CommitStatus } from '../../core/commit-status.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { gitHttp } from './git-http.js';
import { isRemote, redactSecrets } from './git-source.js';

export const NOTES_REF = 'refs/notes/switchyard';
const PUSH_TRIES = 3;

/** What a note line says for each state. */
const WORD: Record<CommitState, string> = { pending: 'attempting', success: 'live', failure: 'failed', canceled: 'superseded' };

export interface GitNotesOptions {
  repo: string;
  /** Where a remote repository's notes are kept between pushes. */
  cacheDir: string;
  author: { name: string; email: string };
  auth?: () => { username: string; password: string } | undefined;
  now?: () => Date;
  timeoutMs?: number;
}

/** The note after `status`: its line replaces the one of the same context, the rest stay, sorted. */
export function mergeNote(before: string, status: CommitStatus, at: Date): string {
  const context = status.context;
  const line = `${context}: ${WORD[status.state]} at ${at.toISOString().slice(0, 19)}Z: ${status.description.replace(/\s+/g, ' ')}`;
  const kept = before.split('\n').filter((l) => l.trim() && !l.startsWith(`${context}: `));
  return `${[...kept, line].sort().join('\n')}\n`;
}

export class GitNotesReporter implements CommitReporter {
  private queue: Promise<void> = Promise.resolve();
  private readonly gitdir: string;

  constructor(private readonly opts: GitNotesOptions, private readonly log: Logger, private readonly onFailure: () => void = () => {}) {
    this.gitdir = isRemote(opts.repo) ? join(opts.cacheDir, createHash('sha256').update(`notes\n${opts.repo}`).digest('hex').slice(0, 16)) : localGitdir(opts.repo);
  }

  report(status: CommitStatus): void {
    this.queue = this.queue.then(() => this.write(status)).catch((e: unknown) => {
      this.onFailure();
      this.log.warn({ commit: status.commit, context: status.context, err: redactSecrets(errorMessage(e), this.opts.auth?.()?.password) }, 'could not write the git note');
    });
  }

  /** Resolves once every note queued so far is written (tests, and a clean stop). */
  flushed(): Promise<void> {
    return this.queue;
  }

  private async write(status: CommitStatus): Promise<void> {
    const now = (this.opts.now ?? (() => new Date()))();
    if (!isRemote(this.opts.repo)) return this.addNote(status, now);
    for (let attempt = 1; ; attempt++) {
      await this.fetchNotes();
      await this.addNote(status, now);
      try {
        await this.push();
        return;
      } catch (e) {
        if (attempt >= PUSH_TRIES) throw e;
      }
    }
  }

  private async addNote(status: CommitStatus, at: Date): Promise<void> {
    let before = '';
    try {
      before = new TextDecoder().decode(await git.readNote({ fs, gitdir: this.gitdir, ref: NOTES_REF, oid: status.commit }));
    } catch {
      // no note yet
    }
    const author = { ...this.opts.author, timestamp: Math.floor(at.getTime() / 1000), timezoneOffset: 0 };
    await git.addNote({ fs, gitdir: this.gitdir, ref: NOTES_REF, oid: status.commit, note: mergeNote(before, status, at), author, committer: author, force: true });
  }

  private get onAuth() {
    return this.opts.auth ? () => this.opts.auth!() ?? {} : undefined;
  }

  /** The remote's notes, or none yet; our own cache is set up on first use. */
  private async fetchNotes(): Promise<void> {
    if (!fs.existsSync(join(this.gitdir, 'HEAD'))) {
      await fs.promises.mkdir(this.gitdir, { recursive: true });
      await git.init({ fs, gitdir: this.gitdir, bare: true });
      await git.addRemote({ fs, gitdir: this.gitdir, remote: 'origin', url: this.opts.repo, force: true });
    }
    const refs = await git.listServerRefs({ http: gitHttp(this.opts.timeoutMs), url: this.opts.repo, prefix: NOTES_REF, onAuth: this.onAuth });
    const theirs = refs.find((r) => r.ref === NOTES_REF)?.oid;
    if (!theirs) return;
    await git.fetch({ fs, http: gitHttp(this.opts.timeoutMs), gitdir: this.gitdir, remote: 'origin', ref: NOTES_REF, remoteRef: NOTES_REF, singleBranch: true, tags: false, onAuth: this.onAuth });
    // Theirs is the base: our note is added on top of it again (the queue writes one at a time).
    await git.writeRef({ fs, gitdir: this.gitdir, ref: NOTES_REF, value: theirs, force: true });
  }

  private async push(): Promise<void> {
    const result = await git.push({ fs, http: gitHttp(this.opts.timeoutMs), gitdir: this.gitdir, remote: 'origin', ref: NOTES_REF, remoteRef: NOTES_REF, onAuth: this.onAuth });
    if (!result.ok) throw new Error(`the forge refused ${NOTES_REF}: ${result.error ?? JSON.stringify(result.refs)}`);
  }
}

/** The git dir of a local repository: REPO/.git for a work tree, REPO itself when it is bare. */
function localGitdir(repo: string): string {
  return fs.existsSync(join(repo, '.git')) ? join(repo, '.git') : repo;
}
