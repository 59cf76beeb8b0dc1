// Commit statuses on GitHub (POST /repos/{owner}/{repo}/statuses/{sha}, a bearer token) and GitLab
// (POST /projects/{id}/statuses/{sha}, a PRIVATE-TOKEN header), as their REST documentation has them.
// Statuses go out in order from a queue, so a deploy never waits on a forge: a failed post is tried
// again with backoff (1 s doubling, 6 tries) unless the forge refused it for good (a 4xx but 429), and
// every status given up is counted.
import { errorMessage } from '../../core/errors.js';
import type { CommitReporter, CommitState, CommitStatus } from '../../core/commit-status.js';
import type { Logger } from '../../core/log.js';

export type Forge =
  | { kind: 'github'; apiUrl: string; repo: string; token: () => string }
  | { kind: 'gitlab'; url: string; project: string; token: () => string };

const TRIES = 6;

/** The request the forge's documentation gives for a status. */
export function statusRequest(forge: Forge, s: CommitStatus): { url: string; headers: Record<string, string>; body: string } {
  const description = s.description.length > 140 ? `${s.description.slice(0, 139)}…` : s.description;
  if (forge.kind === 'github') {
    const state: Record<CommitState, string> = { pending: 'pending', success: 'success', failure: 'failure', canceled: 'error' };
    return {
      url: `${forge.apiUrl.replace(/\/+$/, '')}/repos/${forge.repo}/statuses/${s.commit}`,
      headers: { authorization: `Bearer ${forge.token()}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'content-type': 'application/json' },
      body: JSON.stringify({ state: state[s.state], description, context: s.context }),
    };
  }
  const state: Record<CommitState, string> = { pending: 'running', success: 'success', failure: 'failed', canceled: 'canceled' };
  return {
    url: `${forge.url.replace(/\/+$/, '')}/api/v4/projects/${encodeURIComponent(forge.project)}/statuses/${s.commit}`,
    headers: { 'private-token': forge.token(), 'content-type': 'application/json' },
    body: JSON.stringify({ state: state[s.state], name: s.context, description }),
  };
}

export class ForgeReporter implements CommitReporter {
  private readonly queue: CommitStatus[] = [];
  private running = false;

  constructor(
    private readonly forge: Forge,
    private readonly log: Logger,
    private readonly onGiveUp: () => void,
    /** Waits between tries (tests pass a short one). */
    private readonly backoffMs = 1000,
  ) {}

  report(status: CommitStatus): void {
    this.queue.push(status);
    if (!this.running) void this.drain();
  }

  /** Resolves once every status queued so far was posted or given up (for tests: the agent never waits on a forge). */
  async idle(): Promise<void> {
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) await this.post(next);
    } finally {
      this.running = false;
    }
  }

  private async post(s: CommitStatus): Promise<void> {
    let why = '';
    for (let attempt = 1; attempt <= TRIES; attempt++) {
      try {
        const { url, headers, body } = statusRequest(this.forge, s);
        const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        if (res.ok) return;
        why = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
        if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
      } catch (e) {
        why = errorMessage(e);
      }
      if (attempt < TRIES) await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)));
    }
    this.onGiveUp();
    this.log.warn({ forge: this.forge.kind, commit: s.commit, context: s.context, state: s.state }, `commit status not posted: ${why}`);
  }
}
