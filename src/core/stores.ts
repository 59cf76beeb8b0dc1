// What the reconciler keeps or reads outside git and the host: the last good commit, suspensions, the
// failed-commit memory, env files. File-backed ones are in adapters/files; tests use the memory ones there.
import type { Code } from './errors.js';

export interface LastGoodStore {
  load(): Promise<string | undefined>;
  save(commit: string): Promise<void>;
}

export interface SuspensionStore {
  load(): Promise<Set<string>>;
  save(apps: ReadonlySet<string>): Promise<void>;
}

/** Reads an env file's value on the agent's host (`env: { X: { file: PATH } }`). */
export interface SecretReader {
  read(path: string): Promise<string>;
  /**
   * A key that never leaves the host. Secret values reach the spec hash (and so container names, the
   * status, the journal) only through an HMAC with it, so that the hash cannot be tried against guesses.
   */
  readonly hashKey?: Uint8Array;
}

/** A commit whose apply failed for an app for a reason that needs a human, and why (said again after a restart). */
export interface FailedCommit {
  commit: string;
  reason?: Code;
  message?: string;
}

/** Per app, the commit whose apply failed for a reason that needs a human (not retried for that commit). */
export interface FailedCommitStore {
  load(): Promise<Map<string, FailedCommit>>;
  save(failed: ReadonlyMap<string, FailedCommit>): Promise<void>;
}
