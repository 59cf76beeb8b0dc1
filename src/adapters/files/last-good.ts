// The last commit whose desired state was valid, kept on disk so that an agent restarted while the
// branch tip is invalid still knows what should be live. A missing file is normal (first start).
import type { LastGoodStore } from '../../core/stores.js';
import { readRecord, writeRecord } from './json-file.js';

export class FileLastGood implements LastGoodStore {
  constructor(private readonly path: string) {}

  async load(): Promise<string | undefined> {
    const record = (await readRecord(this.path)) as { commit?: unknown } | undefined;
    return typeof record?.commit === 'string' ? record.commit : undefined;
  }

  async save(commit: string): Promise<void> {
    await writeRecord(this.path, { commit, savedAt: new Date().toISOString() });
  }
}

export class MemoryLastGood implements LastGoodStore {
  commit: string | undefined;
  async load() {
    return this.commit;
  }
  async save(commit: string) {
    this.commit = commit;
  }
}
