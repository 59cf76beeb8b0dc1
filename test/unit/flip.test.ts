import { describe, expect, it } from 'vitest';
import { DEFAULTS, type AppSpec } from '../../src/core/app.js';
import type { ExecutorDeps } from '../../src/executor/deps.js';
import { executeApp } from '../../src/executor/flip.js';
import { SwitchyardError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { plan } from '../../src/plan/plan.js';
import { color, testApp } from '../support/specs.js';
import { FakeClock, FakeProber, FakeRouter, FakeRuntime } from '../support/fakes.js';

const app = testApp;

const AT = { listenHost: '127.0.0.1' };
function setup() {
  const runtime = new FakeRuntime();
  const router = new FakeRouter(runtime.calls);
  const prober = new FakeProber();
  const deps: ExecutorDeps = { runtime, router, prober, clock: new FakeClock(), log: silentLogger, entrypoints: { listenHost: '127.0.0.1' } };
  const step = async (a: AppSpec) => {
    const p = plan({ commit: 'c', apps: [a] }, { targets: await runtime.list(), routes: await router.routes() }, AT, deps.clock.now());
    return executeApp(p.apps[0]!, deps);
  };
  return { runtime, router, prober, deps, step };
}

describe('flip', () => {
  it('routes blue only after both blue targets are healthy, and brings green up warm', async () => {
    const { runtime, router, step } = setup();
    const result = await step(app('blue'));
    expect(result.ok).toBe(true);
    expect(router.applied).toHaveLength(1);
    expect(router.applied[0]!.color).toBe('blue');
    expect(router.applied[0]!.targets.map((t) => t.id).sort()).toEqual(runtime.byColor('web', 'blue').map((t) => t.id).sort());
    expect(runtime.byColor('web', 'green')).toHaveLength(2);
  });

  it('flips to a warm green with a route swap alone, and keeps blue running for rollback', async () => {
    const { runtime, router, step } = setup();
    await step(app('blue'));
    const createsBefore = runtime.calls.filter((c) => c.startsWith('create')).length;
    expect((await step(app('green'))).ok).toBe(true);
    expect(runtime.calls.filter((c) => c.startsWith('create')).length).toBe(createsBefore);
    expect(router.table.get('web')!.color).toBe('green');
    expect(runtime.byColor('web', 'blue').every((t) => t.running)).toBe(true);
  });

  it('keeps blue serving when green never becomes healthy, and disposes green', async () => {
    const { runtime, router, prober, step } = setup();
    await step(app('blue', { colors: { blue: color('img:1', 2), green: color('img:2', 0) } }));
    const blueRoute = router.table.get('web');
    const blueIds = new Set(runtime.byColor('web', 'blue').map((t) => t.id));
    prober.healthy = (port) => [...runtime.targets.values()].some((t) => blueIds.has(t.id) && t.address?.port === port);

    const result = await step(app('green'));
    expect(result).toMatchObject({ ok: false, reason: 'HealthCheckFailed' });
    expect(!result.ok && result.message).toMatch(/green is not healthy: .*not healthy within the start timeout \(last probe: HTTP 404 on \/healthz\)/);
    expect(router.table.get('web')).toBe(blueRoute);
    expect(router.applied).toHaveLength(1);
    expect(runtime.byColor('web', 'green')).toEqual([]);
    expect(runtime.byColor('web', 'blue').map((t) => t.id).sort()).toEqual([...blueIds].sort());
  });

  it('says so when a new target is killed by the OOM killer in the gate', async () => {
    const { runtime, prober, step } = setup();
    prober.healthy = () => {
      for (const t of runtime.targets.values()) if (t.color === 'blue' && t.replica === 0 && t.running) runtime.crash(t.id, 137, true);
      return true;
    };
    const result = await step(app('blue'));
    expect(result).toMatchObject({ ok: false, reason: 'HealthCheckFailed' });
    expect(!result.ok && result.message).toMatch(/exited \(last probe: container restarting \(killed by the OOM killer: it needs more memory than its limit, resources\.memory\)/);
  });

  it('fails the gate at once when a new target exits, without waiting out the start timeout', async () => {
    const { runtime, router, prober, deps, step } = setup();
    const clock = deps.clock as FakeClock;
    const start = clock.now();
    prober.healthy = () => {
      for (const t of runtime.targets.values()) if (t.color === 'blue' && t.replica === 1 && t.running) runtime.crash(t.id);
      return true;
    };
    const result = await step(app('blue'));
    expect(result).toMatchObject({ ok: false, reason: 'HealthCheckFailed' });
    expect(!result.ok && result.message).toMatch(/exited \(last probe: container restarting/);
    expect(router.applied).toEqual([]);
    // Virtual time: the gate stopped after a couple of intervals, far short of the 5 s start timeout.
    expect(clock.now() - start).toBeLessThan(5000);
  });

  it('does not hold a new target stopped from outside during its gate (the engine going down) against the commit', async () => {
    const { runtime, router, prober, step } = setup();
    prober.healthy = () => {
      for (const t of runtime.targets.values()) if (t.color === 'blue' && t.replica === 1) runtime.exit(t.id);
      return true;
    };
    expect(await step(app('blue'))).toMatchObject({ ok: false, reason: 'TargetStopped', message: expect.stringMatching(/stopped from outside/) });
    expect(router.applied).toEqual([]);
  });

  it('keeps the gated targets when the route cannot be applied (a listen port held elsewhere), and routes them on the retry', async () => {
    const { runtime, router, step } = setup();
    router.failNext = new SwitchyardError('PortInUse', 'listen port 9000 on 127.0.0.1 is held by another process');
    expect(await step(app('blue'))).toMatchObject({ ok: false, reason: 'PortInUse', message: expect.stringMatching(/9000/) });
    expect(runtime.byColor('web', 'blue')).toHaveLength(2);
    runtime.calls.length = 0;
    expect((await step(app('blue'))).ok).toBe(true);
    expect(runtime.calls).toEqual(['route web blue']);
  });

  it('disposes what it created and routes nothing when an image is missing', async () => {
    const { runtime, router, step } = setup();
    runtime.missingImages.add('img:2');
    const result = await step(app('blue'));
    expect(result).toMatchObject({ ok: false, reason: 'ImagePullFailed' });
    expect(runtime.targets.size).toBe(0);
    expect(router.applied).toEqual([]);
  });

  it('rolls a changed serving color one target at a time: create, gate, swap in, then drain and remove one old', async () => {
    const { runtime, router, step } = setup();
    const three = (image: string) => app('blue', { colors: { blue: color(image, 3), green: color('img:2', 0) } });
    await step(three('img:1'));
    const old = runtime.byColor('web', 'blue').sort((a, b) => a.replica - b.replica).map((t) => t.id);
    runtime.calls.length = 0;
    router.applied.length = 0;
    expect((await step(three('img:1.1'))).ok).toBe(true);
    expect(runtime.calls.map((c) => c.replace(/^remove .*/, 'remove'))).toEqual([
      'create web/blue/0', 'route web blue', 'remove',
      'create web/blue/1', 'route web blue', 'remove',
      'create web/blue/2', 'route web blue', 'remove',
    ]);
    expect(runtime.calls.filter((c) => c.startsWith('remove'))).toEqual(old.map((id) => `remove ${id}`));
    // Never fewer than three targets in the pool while it rolls.
    expect(router.applied.map((r) => r.targets.length)).toEqual([3, 3, 3]);
    expect(router.table.get('web')!.targets.map((t) => t.id).sort()).toEqual(runtime.byColor('web', 'blue').map((t) => t.id).sort());
  });

  it('stops a roll at the first new target that fails its gate; the old ones left keep serving', async () => {
    const { runtime, router, prober, step } = setup();
    const three = (image: string) => app('blue', { colors: { blue: color(image, 3), green: color('img:2', 0) } });
    await step(three('img:1'));
    const old = runtime.byColor('web', 'blue').sort((a, b) => a.replica - b.replica);
    let created = 0;
    const create = runtime.create.bind(runtime);
    runtime.create = async (spec) => {
      created++;
      return create(spec);
    };
    // The second new target never answers.
    prober.healthy = (port) => created < 2 || [...runtime.targets.values()].some((t) => t.address?.port === port && old.some((o) => o.id === t.id));
    const result = await step(three('img:1.1'));
    expect(result).toMatchObject({ ok: false, reason: 'HealthCheckFailed', message: expect.stringMatching(/rolling replacement stopped after 1 of 3 new target\(s\); the others keep serving/) });
    const routed = router.table.get('web')!.targets.map((t) => t.id);
    expect(routed).toHaveLength(3);
    expect(routed).toEqual(expect.arrayContaining([old[1]!.id, old[2]!.id]));
    expect(runtime.byColor('web', 'blue')).toHaveLength(3);
  });

  it('stops a roll between targets when a newer commit supersedes it: nothing more is created, the old ones left keep serving', async () => {
    const { runtime, router, deps } = setup();
    const three = (image: string) => app('blue', { colors: { blue: color(image, 3), green: color('img:2', 0) } });
    const step = async (a: AppSpec, signal?: AbortSignal) => {
      const p = plan({ commit: 'c', apps: [a] }, { targets: await runtime.list(), routes: await router.routes() }, AT, deps.clock.now());
      return executeApp(p.apps[0]!, deps, signal);
    };
    await step(three('img:1'));
    const old = runtime.byColor('web', 'blue').sort((a, b) => a.replica - b.replica);
    runtime.calls.length = 0;
    const newer = new AbortController();
    const apply = router.apply.bind(router);
    // The newer commit arrives as the first new target is swapped in.
    router.apply = async (route) => {
      await apply(route);
      newer.abort();
    };
    const result = await step(three('img:1.1'), newer.signal);
    expect(result).toMatchObject({ ok: false, reason: 'Superseded' });
    expect(runtime.calls.map((c) => c.replace(/^remove .*/, 'remove'))).toEqual(['create web/blue/0', 'route web blue', 'remove']);
    const routed = router.table.get('web')!.targets.map((t) => t.id);
    expect(routed).toHaveLength(3);
    expect(routed).toEqual(expect.arrayContaining([old[1]!.id, old[2]!.id]));
  });

  it('rolls `surge` targets at a time', async () => {
    const { runtime, step } = setup();
    const four = (image: string) => app('blue', { surge: 2, colors: { blue: color(image, 4), green: color('img:2', 0) } });
    await step(four('img:1'));
    runtime.calls.length = 0;
    expect((await step(four('img:1.1'))).ok).toBe(true);
    expect(runtime.calls.map((c) => c.replace(/^remove .*/, 'remove'))).toEqual([
      'create web/blue/0', 'create web/blue/1', 'route web blue', 'remove', 'remove',
      'create web/blue/2', 'create web/blue/3', 'route web blue', 'remove', 'remove',
    ]);
  });

  it('fails the gate at once when a target that passed keeps failing (unhealthyThreshold)', async () => {
    const { router, prober, deps, step } = setup();
    const clock = deps.clock as FakeClock;
    const start = clock.now();
    let n = 0;
    prober.healthy = () => ++n % 100 === 1; // one pass, then failures
    const result = await step(app('blue', { health: { ...DEFAULTS.health, intervalMs: 100, healthyThreshold: 3, unhealthyThreshold: 2, startTimeoutMs: 60_000 } }));
    expect(result).toMatchObject({ ok: false, reason: 'HealthCheckFailed' });
    expect(!result.ok && result.message).toMatch(/failed its health check again after passing/);
    expect(router.applied).toEqual([]);
    expect(clock.now() - start).toBeLessThan(60_000);
  });

  it('starts workers only after the web route is switched, and stops the old ones after the new ones stay up', async () => {
    const { runtime, step } = setup();
    const withWorker = (active: 'blue' | 'green') => app(active, { workers: [{ name: 'jobs', replicas: 1, env: {}, command: ['/bin/jobs'] }] });
    expect((await step(withWorker('blue'))).ok).toBe(true);
    const [blueWorker] = [...runtime.targets.values()].filter((t) => t.worker === 'jobs');
    expect(blueWorker!.color).toBe('blue');
    expect(runtime.calls.indexOf('route web blue')).toBeLessThan(runtime.calls.indexOf('create web/jobs/blue/0'));

    runtime.calls.length = 0;
    expect((await step(withWorker('green'))).ok).toBe(true);
    const workers = [...runtime.targets.values()].filter((t) => t.worker === 'jobs');
    expect(workers.map((t) => t.color)).toEqual(['green']);
    expect(runtime.calls).toEqual(['route web green', 'create web/jobs/green/0', `remove ${blueWorker!.id}`]);
  });

  it('leaves the workers alone when the flip fails, and keeps the old workers when new ones do not stay up', async () => {
    const { runtime, prober, step } = setup();
    const withWorker = (active: 'blue' | 'green', command = ['/bin/jobs']) => app(active, { workers: [{ name: 'jobs', replicas: 1, env: {}, command }], colors: { blue: color('img:1', 1), green: color('img:2', 1) } });
    await step(withWorker('blue'));
    const [old] = [...runtime.targets.values()].filter((t) => t.worker === 'jobs');
    prober.healthy = () => false;
    const failed = await step({ ...withWorker('green'), colors: { blue: color('img:1', 1), green: color('img:broken', 1) } });
    expect(failed).toMatchObject({ ok: false, reason: 'HealthCheckFailed' });
    expect([...runtime.targets.values()].filter((t) => t.worker === 'jobs').map((t) => t.id)).toEqual([old!.id]);

    prober.healthy = () => true;
    const create = runtime.create.bind(runtime);
    runtime.create = async (spec) => {
      const t = await create(spec);
      if (spec.worker) runtime.exit(t.id);
      return t;
    };
    const crashing = await step(withWorker('blue', ['/bin/crash']));
    expect(crashing).toMatchObject({ ok: false, reason: 'WorkerFailed', message: expect.stringMatching(/did not stay up; the previous workers keep running/) });
    expect([...runtime.targets.values()].filter((t) => t.worker === 'jobs').map((t) => t.id)).toEqual([old!.id]);
  });

  it('takes a dead routed target out of the route first, then replaces it through the gate', async () => {
    const { runtime, router, step } = setup();
    const two = app('blue', { colors: { blue: color('img:1', 2), green: color('img:2', 0) } });
    await step(two);
    const [dead, alive] = runtime.byColor('web', 'blue').sort((a, b) => a.replica - b.replica);
    runtime.exit(dead!.id);
    runtime.calls.length = 0;
    router.applied.length = 0;
    expect((await step(two)).ok).toBe(true);
    expect(router.applied[0]!.targets.map((t) => t.id)).toEqual([alive!.id]);
    expect(runtime.calls).toEqual(['route web blue', `remove ${dead!.id}`, 'create web/blue/0', 'route web blue']);
    expect(router.table.get('web')!.targets).toHaveLength(2);
  });

  it('takes a crash-looping target out of the route but leaves it to Docker, and routes it again once it runs and passes the gate', async () => {
    const { runtime, router, prober, step } = setup();
    const two = app('blue', { colors: { blue: color('img:1', 2), green: color('img:2', 0) } });
    await step(two);
    const [looping, alive] = runtime.byColor('web', 'blue').sort((a, b) => a.replica - b.replica);
    runtime.crash(looping!.id);
    runtime.calls.length = 0;
    expect((await step(two)).ok).toBe(true);
    expect(runtime.calls).toEqual(['route web blue']);
    expect(router.table.get('web')!.targets.map((t) => t.id)).toEqual([alive!.id]);

    runtime.restart(looping!.id);
    const probesBefore = prober.probes;
    expect((await step(two)).ok).toBe(true);
    expect(prober.probes - probesBefore).toBe(3);
    expect(router.table.get('web')!.targets.map((t) => t.id)).toEqual([looping!.id, alive!.id]);
    expect(runtime.calls.filter((c) => c.startsWith('create') || c.startsWith('remove'))).toEqual([]);
  });

  it('takes a target Docker restarted (on a new port) out of the route, and routes it again only through the gate', async () => {
    const { runtime, router, prober, step } = setup();
    const two = app('blue', { colors: { blue: color('img:1', 2), green: color('img:2', 0) } });
    await step(two);
    const [restarted, alive] = runtime.byColor('web', 'blue').sort((a, b) => a.replica - b.replica);
    runtime.crash(restarted!.id);
    runtime.restart(restarted!.id);
    router.applied.length = 0;
    const probesBefore = prober.probes;
    expect((await step(two)).ok).toBe(true);
    expect(router.applied.map((r) => r.targets.map((t) => t.port))).toEqual([[alive!.address!.port], [runtime.targets.get(restarted!.id)!.address!.port, alive!.address!.port]]);
    expect(prober.probes - probesBefore).toBe(3);
  });

  it('leaves the route as it is when every active target is crash-looping, and says so', async () => {
    const { runtime, router, step } = setup();
    const one = app('blue', { colors: { blue: color('img:1', 1), green: color('img:2', 0) } });
    await step(one);
    const before = router.table.get('web');
    const [only] = runtime.byColor('web', 'blue');
    runtime.crash(only!.id);
    runtime.calls.length = 0;
    expect(await step(one)).toMatchObject({ ok: false, reason: 'CrashLoopBackOff', message: expect.stringMatching(/every blue target is crash-looping/) });
    expect(router.table.get('web')).toBe(before);
    expect(runtime.calls).toEqual([]);
  });

  it('calls a kept target that exits during its gate crash-looping, not a failed commit', async () => {
    const { runtime, step, deps } = setup();
    const two = app('blue', { colors: { blue: color('img:1', 2), green: color('img:2', 0) } });
    await step(two);
    const [looping] = runtime.byColor('web', 'blue').sort((a, b) => a.replica - b.replica);
    runtime.crash(looping!.id);
    await step(two);
    runtime.restart(looping!.id);
    // Docker brought it back, and it crashes again while it is gated.
    deps.prober = { probe: async (address) => (runtime.crash(looping!.id), { ok: address.port < 0, detail: 'connection refused' }) };
    expect(await step(two)).toMatchObject({ ok: false, reason: 'CrashLoopBackOff' });
  });
});
