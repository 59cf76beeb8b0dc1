// Apps an operator suspended: the agent leaves them exactly as they are until resumed. Kept on disk, so
// a suspension outlives an agent restart (a missing file means none).
import type { SuspensionStore } from '../../core/stores.js';
import { readRecord, writeRecord } from './json-file.js';

export class FileSuspensions implements SuspensionStore {
  constructor(private readonly path: string) {}

  async load(): Promise<Set<string>> {
    const record = (await readRecord(this.path)) as { apps?: unknown } | undefined;
    return new Set(Array.isArray(record?.apps) ? record.apps.filter((a): a is string => typeof a === 'string') : []);
  }

  async save(apps: ReadonlySet<string>): Promise<void> {
    await writeRecord(this.path, { apps: [...apps].sort() });
  }
}

export class MemorySuspensions implements SuspensionStore {
  apps = new Set<string>();
  async load() {
    return new Set(this.apps);
  }
  async save(apps: ReadonlySet<string>) {
    this.apps = new Set(apps);
  }
}
