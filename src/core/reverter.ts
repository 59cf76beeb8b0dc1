// Writing a rollback back to git: a revert of the commit the guard undid, pushed to the followed branch,
// so that git asks again for what is live. Never forced: a rejected push is said and left to a human.
// The git implementation is adapters/git/git-revert.ts.

export type RevertResult = { ok: true; commit: string; branch: string } | { ok: false; why: string };

export interface Reverter {
  /** Reverts `commit` on the followed branch with `reason` in the message. Resolves, never throws. */
  revert(commit: string, reason: string): Promise<RevertResult>;
}
