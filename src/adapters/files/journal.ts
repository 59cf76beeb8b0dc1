// The audit journal: one JSON line per attempt to apply a commit to an app, appended and flushed to
// disk (fsync) before the call returns, so that a crash loses at most the attempt in progress and never
// tears a line that was written. Reading skips a torn last line instead of failing.
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Journal, JournalEntry } from '../../core/journal.js';

export class FileJournal implements Journal {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  append(entry: JournalEntry): Promise<void> {
    // One writer at a time, in order: lines never interleave.
    const write = this.queue.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      const file = await open(this.path, 'a');
      try {
        await file.appendFile(`${JSON.stringify(entry)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
    });
    this.queue = write.catch(() => undefined);
    return write;
  }

  async read(filter: { app?: string; limit?: number } = {}): Promise<JournalEntry[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return [];
    }
    const entries: JournalEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as JournalEntry;
        if (!filter.app || e.app === filter.app) entries.push(e);
      } catch {
        // A line torn by a crash mid-write: skipped.
      }
    }
    return filter.limit ? entries.slice(-filter.limit) : entries;
  }
}

export class MemoryJournal implements Journal {
  readonly entries: JournalEntry[] = [];
  async append(entry: JournalEntry) {
    this.entries.push(entry);
  }
  async read(filter: { app?: string; limit?: number } = {}) {
    const e = this.entries.filter((x) => !filter.app || x.app === filter.app);
    return filter.limit ? e.slice(-filter.limit) : e;
  }
}
