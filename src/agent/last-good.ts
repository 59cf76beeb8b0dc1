// The last commit whose desired state was valid, kept on disk so that an agent restarted while the
// branch tip is invalid still knows what should be live. A missing file is normal (first start).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface LastGoodStore {
  load(): Promise<string | undefined>;
  save(commit: string): Promise<void>;
}

export class FileLastGood implements LastGoodStore {
  constructor(private readonly path: string) {}

  async load(): Promise<string | undefined> {
    try {
      const record = JSON.parse(await readFile(this.path, 'utf8')) as { commit?: unknown };
      return typeof record.commit === 'string' ? record.commit : undefined;
    } catch {
      return undefined;
    }
  }

  async save(commit: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    // Write then rename: a crash leaves the old record or the new one, never a torn file.
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ commit, savedAt: new Date().toISOString() })}\n`);
    await rename(tmp, this.path);
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
