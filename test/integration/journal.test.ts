// The journal on disk survives a SIGKILL in the middle of appending: every line that is there parses.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileJournal } from '../../src/adapters/files/journal.js';
import { stateDir, until } from '../support/run.js';

describe('journal', () => {
  it('has no torn line after the writer is killed with SIGKILL mid-stream', async () => {
    const path = join(stateDir(), 'journal.jsonl');
    // A writer appending as fast as it can (the built module: the same code the agent runs).
    const script = `import('${process.cwd()}/dist/adapters/files/journal.js').then(async ({ FileJournal }) => {
      const j = new FileJournal(${JSON.stringify(path)});
      for (let i = 0; ; i++) await j.append({ at: new Date().toISOString(), app: 'web', commit: String(i).padStart(40, '0'), changes: ['x'.repeat(500)], result: 'applied' });
    });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    await until('entries on disk', () => {
      try {
        return readFileSync(path, 'utf8').split('\n').length > 50 ? true : undefined;
      } catch {
        return undefined;
      }
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBeGreaterThan(50);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const entries = await new FileJournal(path).read();
    expect(entries.length).toBe(lines.length);
    expect(entries.map((e) => Number(e.commit))).toEqual(entries.map((_, i) => i));
  });

  it('skips a torn last line when reading, instead of failing', async () => {
    const path = join(stateDir(), 'journal.jsonl');
    const j = new FileJournal(path);
    await j.append({ at: 'a', app: 'web', commit: 'c1', changes: [], result: 'applied' });
    const { appendFileSync } = await import('node:fs');
    appendFileSync(path, '{"at":"b","app":"web","com');
    expect((await j.read()).map((e) => e.commit)).toEqual(['c1']);
    expect(await j.read({ app: 'api' })).toEqual([]);
  });
});
