import { describe, expect, it } from 'vitest';
import { gate, RECHECK_MS } from '../../src/health/gate.js';
import type { HealthSpec } from '../../src/core/app.js';
import type { LiveTarget } from '../../src/core/target.js';
import { FakeClock, FakeProber, FakeRuntime } from '../support/fakes.js';

const health: HealthSpec = { path: '/healthz', intervalMs: 100, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 3, startTimeoutMs: 20_000, tcp: false };

/** A runtime that counts inspects, around the fake. */
function counted(runtime: FakeRuntime) {
  let inspects = 0;
  return { inspects: () => inspects, runtime: { inspect: (id: string) => (inspects++, runtime.inspect(id)) } };
}

async function target(runtime: FakeRuntime): Promise<LiveTarget> {
  return runtime.create({ app: 'web', color: 'blue', replica: 0, specHash: 'h', commit: 'c', image: 'img', env: {} } as never);
}

describe('health gate', () => {
  it('asks the engine about a starting target once per RECHECK_MS, not at every probe', async () => {
    const runtime = new FakeRuntime();
    const t = await target(runtime);
    const clock = new FakeClock();
    const started = clock.now();
    // Answers from its 5th second on: 50 failed probes before that.
    const prober = new FakeProber(() => clock.now() - started >= 5000);
    const engine = counted(runtime);
    expect(await gate([t], health, { prober, runtime: engine.runtime, clock })).toEqual({ healthy: true });
    expect(prober.probes).toBe(52);
    // One at first, one per second of failing probes, one before it counts as healthy.
    expect(engine.inspects()).toBe(1 + 5000 / RECHECK_MS + 1);
  });

  it('takes a target that passes at once with two inspects', async () => {
    const runtime = new FakeRuntime();
    const t = await target(runtime);
    const engine = counted(runtime);
    expect(await gate([t], health, { prober: new FakeProber(), runtime: engine.runtime, clock: new FakeClock() })).toEqual({ healthy: true });
    expect(engine.inspects()).toBe(2);
  });

  it('fails a target that crashed and already runs again between two looks, as an exit', async () => {
    const runtime = new FakeRuntime();
    const t = await target(runtime);
    const clock = new FakeClock();
    let probes = 0;
    // Fails its first probes; in between, it crashes and Docker brings it back on a new port that answers.
    const prober = { probe: async () => (++probes === 3 && (runtime.crash(t.id), runtime.restart(t.id)), { ok: probes > 3, detail: probes > 3 ? 'HTTP 200' : 'connection refused' }) };
    const result = await gate([t], health, { prober, runtime, clock });
    expect(result).toMatchObject({ healthy: false, failures: [{ reason: 'TargetExited', lastProbe: expect.stringMatching(/restarted 1 time\(s\) during its gate/) }] });
  });

  it('fails a target that exits at its next look, within RECHECK_MS of its first failed probe', async () => {
    const runtime = new FakeRuntime();
    const t = await target(runtime);
    const clock = new FakeClock();
    const started = clock.now();
    const prober = new FakeProber(() => false);
    runtime.exit(t.id);
    const exited = await gate([t], health, { prober, runtime, clock });
    expect(exited).toMatchObject({ healthy: false, failures: [{ reason: 'TargetStopped' }] });
    expect(clock.now() - started).toBeLessThanOrEqual(RECHECK_MS);
  });
});
