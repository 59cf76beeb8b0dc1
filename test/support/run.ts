// Per-test identity and waiting helpers. Waiting polls a condition; it never asserts on elapsed time.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { runStateRoot } from './paths.js';

/** A fresh state dir for one agent (git cache, last good commit, proxy socket, routes, pid). */
export function stateDir(): string {
  const root = runStateRoot(inject('runId'));
  mkdirSync(root, { recursive: true });
  return mkdtempSync(join(root, 's'));
}

let n = 0;
/** An agent instance name owned by this test run (cleaned up by the global teardown). */
export function instanceName(): string {
  return `t${inject('runId')}-${process.pid % 10000}-${++n}`;
}

export function testImages(): { ok: string; sick: string; checked: string } {
  const images = inject('images');
  if (!images) throw new Error('no Docker engine answers: run the tests through `npm test`, which starts one');
  return images;
}

/** Polls `probe` until it returns a value other than undefined; fails with `what` after `limitMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves once process `pid` no longer exists. */
export function processGone(what: string, pid: number): Promise<true> {
  return until(what, () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  });
}
