// What the reconciler keeps or reads outside git and the host: the last good commit, suspensions, the
// failed-commit memory, env files. File-backed ones are in adapters/files; tests use the memory ones there.

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
}

/** Per app, the commit whose apply failed for a reason that needs a human (not retried for that commit). */
export interface FailedCommitStore {
  load(): Promise<Map<string, string>>;
  save(failed: ReadonlyMap<string, string>): Promise<void>;
}
