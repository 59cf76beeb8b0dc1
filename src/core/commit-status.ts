// What the agent tells the forge about a commit it attempts: per app (`switchyard/APP`) or for the whole
// commit (`switchyard`, a refused commit), pending while it works, then success or failure. The forge
// reporters are adapters (adapters/forge/); reporting never holds up or fails a deploy.

export type CommitState = 'pending' | 'success' | 'failure' | 'canceled';

export interface CommitStatus {
  commit: string;
  /** `switchyard` for the commit, `switchyard/APP` for one app. */
  context: string;
  state: CommitState;
  /** One line; forges cut it (GitHub at 140 characters). */
  description: string;
}

export interface CommitReporter {
  /** Queues the status; returns at once. */
  report(status: CommitStatus): void;
}
