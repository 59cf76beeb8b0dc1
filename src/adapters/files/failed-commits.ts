// Per app, the commit whose apply failed for a reason that needs a human. Kept on disk so that an agent
// restart does not retry a commit that failed its gate (only a new commit or `switchyard sync` does);
// `switchyard plan` reads it too, so that it predicts what the agent will really do.
import { isCode } from '../../core/errors.js';
import type { FailedCommit, FailedCommitStore } from '../../core/stores.js';
import { readRecord, writeRecord } from './json-file.js';

export class FileFailedCommits implements FailedCommitStore {
  constructor(private readonly path: string) {}

  async load(): Promise<Map<string, FailedCommit>> {
    const record = (await readRecord(this.path)) as { failed?: Record<string, unknown> } | undefined;
    const out = new Map<string, FailedCommit>();
    for (const [app, v] of Object.entries(record?.failed ?? {})) {
      // Files of earlier versions hold the commit alone.
      if (typeof v === 'string') out.set(app, { commit: v });
      else if (v && typeof v === 'object' && typeof (v as FailedCommit).commit === 'string') {
        const { commit, reason, message } = v as Record<string, unknown>;
        out.set(app, { commit: commit as string, ...(isCode(reason) ? { reason } : {}), ...(typeof message === 'string' ? { message } : {}) });
      }
    }
    return out;
  }

  async save(failed: ReadonlyMap<string, FailedCommit>): Promise<void> {
    await writeRecord(this.path, { failed: Object.fromEntries([...failed].sort()) });
  }
}

export class MemoryFailedCommits implements FailedCommitStore {
  failed = new Map<string, FailedCommit>();
  async load() {
    return new Map(this.failed);
  }
  async save(failed: ReadonlyMap<string, FailedCommit>) {
    this.failed = new Map(failed);
  }
}
