// An agent on fakes (unit tests of the reconciler): every side effect in memory, virtual time. Stores
// can be passed in, so that a test can restart the agent on the same ones.
import { expect } from 'vitest';
import { MemoryFailedCommits } from '../../src/adapters/files/failed-commits.js';
import { MemoryJournal } from '../../src/adapters/files/journal.js';
import { MemoryLastGood } from '../../src/adapters/files/last-good.js';
import { MemorySuspensions } from '../../src/adapters/files/suspensions.js';
import { silentLogger } from '../../src/core/log.js';
import type { FailedCommitStore, LastGoodStore, SuspensionStore } from '../../src/core/stores.js';
import { DEFAULT_POLICY } from '../../src/policy/policy.js';
import { Agent } from '../../src/reconciler/agent.js';
import type { Source } from '../../src/core/source.js';
import type { CommitReporter } from '../../src/core/commit-status.js';
import type { VerifyPolicy } from '../../src/desired/verify.js';
import { StatusStore } from '../../src/reconciler/status-store.js';
import { FakeClock, FakeProber, FakeRouter, FakeRuntime, FakeSource } from './fakes.js';

/** Lets the agent's promises run until `cond` holds (no clock involved: a bounded number of turns). */
export async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

/** `source` and `verify`: a real git source and signature check (test/integration/verify-agent); `reporter`: commit statuses. */
export function setup<L extends LastGoodStore = MemoryLastGood, S extends SuspensionStore = MemorySuspensions, F extends FailedCommitStore = MemoryFailedCommits>(
  stores: { lastGood?: L; suspensions?: S; failedCommits?: F; source?: Source; verify?: VerifyPolicy; reporter?: CommitReporter } = {},
) {
  const lastGood = stores.lastGood ?? (new MemoryLastGood() as unknown as L);
  const suspensions = stores.suspensions ?? (new MemorySuspensions() as unknown as S);
  const failedCommits = stores.failedCommits ?? (new MemoryFailedCommits() as unknown as F);
  const clock = new FakeClock();
  const source = new FakeSource();
  const runtime = new FakeRuntime();
  const router = new FakeRouter(runtime.calls);
  const prober = new FakeProber();
  const status = new StatusStore('test', 'fake', clock);
  const secrets = { files: new Map<string, string>(), read: async (path: string) => { const v = secrets.files.get(path); if (v === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' }); return v; } };
  const journal = new MemoryJournal();
  const notified: Record<string, unknown>[] = [];
  const agent = new Agent({ source: stores.source ?? source, ...(stores.verify ? { verify: stores.verify } : {}), ...(stores.reporter ? { reporter: stores.reporter } : {}), notify: (e) => notified.push(e), status, lastGood, secrets, journal, suspensions, failedCommits, staleAfter: 3, policy: DEFAULT_POLICY, runtime, router, prober, clock, log: silentLogger, entrypoints: { listenHost: '127.0.0.1' } });
  return { clock, source, runtime, router, prober, status, agent, lastGood, secrets, journal, suspensions, failedCommits, notified };
}
