// Per app, the commit whose apply failed for a reason that needs a human. Kept on disk so that an agent
// restart does not retry a commit that failed its gate (only a new commit or `switchyard sync` does);
// `switchyard plan` reads it too, so that it predicts what the agent will really do.
import type { FailedCommitStore } from '../../core/stores.js';
import { readRecord, writeRecord } from './json-file.js';

export class FileFailedCommits implements FailedCommitStore {
  constructor(private readonly path: string) {}

  async load(): Promise<Map<string, string>> {
    const record = (await readRecord(this.path)) as { failed?: Record<string, unknown> } | undefined;
    const entries = Object.entries(record?.failed ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string');
    return new Map(entries);
  }

  async save(failed: ReadonlyMap<string, string>): Promise<void> {
    await writeRecord(this.path, { failed: Object.fromEntries([...failed].sort()) });
  }
}

export class MemoryFailedCommits implements FailedCommitStore {
  failed = new Map<string, string>();
  async load() {
    return new Map(this.failed);
  }
  async save(failed: ReadonlyMap<string, string>) {
    this.failed = new Map(failed);
  }
}
