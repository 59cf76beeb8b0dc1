// Apps an operator suspended: the agent leaves them exactly as they are until resumed. Kept on disk, so
// a suspension outlives an agent restart (a missing file means none).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface SuspensionStore {
  load(): Promise<Set<string>>;
  save(apps: ReadonlySet<string>): Promise<void>;
}

export class FileSuspensions implements SuspensionStore {
  constructor(private readonly path: string) {}

  async load(): Promise<Set<string>> {
    try {
      return new Set((JSON.parse(await readFile(this.path, 'utf8')) as { apps: string[] }).apps);
    } catch {
      return new Set();
    }
  }

  async save(apps: ReadonlySet<string>): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(`${this.path}.tmp`, `${JSON.stringify({ apps: [...apps].sort() })}\n`);
    await rename(`${this.path}.tmp`, this.path);
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
