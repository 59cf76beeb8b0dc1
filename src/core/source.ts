// What a source hands the rest of the agent: one commit and its files, immutable, read without a checkout.
import type { SignedObject } from './signature.js';

export interface SnapshotFile {
  /** Path from the repository root, e.g. `apps/hello.yaml`. */
  path: string;
  content: Uint8Array;
  /** A symbolic link: recorded so that validation can refuse it, never followed. */
  symlink?: boolean;
  /** Committed with the executable bit (mode 100755). */
  executable?: boolean;
}

export interface CommitInfo {
  author: string;
  message: string;
  /** Seconds since the epoch, as git records it. */
  timestamp: number;
}

export interface Snapshot {
  commit: string;
  info: CommitInfo;
  files: readonly SnapshotFile[];
  /** The commit as git splits it for a signature check (desired/verify.ts). */
  signed?: SignedObject;
  /** What was followed to reach it: a full ref (refs/heads/main, refs/tags/v1.2.0) or the pinned commit. */
  ref?: string;
  /** The annotated tag followed, when the ref is one (a lightweight tag is a bare name: nothing to sign). */
  tag?: SignedObject;
}

export interface Source {
  /** Human-readable origin for logs and status: the URL or path plus the ref. */
  readonly description: string;
  /** The commit the followed ref points at now. Throws SwitchyardError(FetchFailed) on failure. */
  latest(): Promise<Snapshot>;
  /** A commit seen before (e.g. the last good one, after a restart). Throws FetchFailed when it is gone. */
  at(commit: string): Promise<Snapshot>;
  /**
   * Every file under `dir` (from the folder that holds apps/) at a commit seen before, recursively, with
   * paths relative to `dir`; empty when there is no such folder. For `build:` contexts.
   */
  folder(commit: string, dir: string): Promise<SnapshotFile[]>;
}
