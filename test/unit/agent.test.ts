import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSuspensions } from '../../src/adapters/files/suspensions.js';
import { SwitchyardError } from '../../src/core/errors.js';
import { appYaml } from '../support/app-yaml.js';
import { BAD_INPUTS, VALID_APP } from '../support/bad-inputs.js';
import { setup, until } from '../support/agent-world.js';

describe('agent', () => {
  it('applies a commit and reports Ready with the applied commit', async () => {
    const { source, agent, router } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await agent.reconcile();
    expect(router.table.get('web')!.color).toBe('blue');
    const web = agent.status().apps.web!;
    expect(web).toMatchObject({ activeColor: 'blue', desiredColor: 'blue', lastAppliedCommit: 'c1', lastAttemptedCommit: 'c1' });
    expect(web.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True', reason: 'Succeeded' })]);
  });

  it('refuses an invalid commit whole and keeps the last good state live', async () => {
    const { source, agent, router, runtime } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await agent.reconcile();
    const before = { route: router.table.get('web'), targets: [...runtime.targets.keys()] };
    source.commitFiles('c2', { 'apps/web.yaml': appYaml({ listen: 9000, active: 'green' }).replace('port: 8080', 'port: [') });
    await agent.reconcile();
    expect(router.table.get('web')).toBe(before.route);
    expect([...runtime.targets.keys()]).toEqual(before.targets);
    const st = agent.status();
    expect(st.desired).toMatchObject({ commit: 'c1', lastAttemptedCommit: 'c2' });
    expect(st.desired.errors[0]).toMatch(/^apps\/web\.yaml:\d+:\d+: YAML: /);
  });

  it('after a restart onto an invalid tip, serves the last good commit recorded before', async () => {
    const first = setup();
    first.source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await first.agent.reconcile();
    expect(first.lastGood.commit).toBe('c1');
    first.source.commitFiles('c2', { 'apps/web.yaml': 'name: [' });
    await first.agent.reconcile();
    expect(first.lastGood.commit).toBe('c1');

    // A new process: same host (runtime), fresh router and memory, the same record on disk.
    const second = setup({ lastGood: first.lastGood });
    second.source.history.set('c1', first.source.history.get('c1')!);
    second.source.next = first.source.next;
    for (const [id, t] of first.runtime.targets) second.runtime.targets.set(id, t);
    await second.agent.reconcile();
    expect(second.router.table.get('web')!.color).toBe('blue');
    expect(second.agent.status().desired).toMatchObject({ commit: 'c1', lastAttemptedCommit: 'c2', errors: [expect.stringMatching(/apps\/web\.yaml:1:\d+/)] });
    expect(second.runtime.calls.filter((c) => c.startsWith('create'))).toEqual([]);
  });

  it('does not retry a commit whose flip failed, and retries when a new commit arrives', async () => {
    const { source, agent, router, runtime, prober } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await agent.reconcile();
    prober.healthy = () => false;
    source.commitFiles('c2', { 'apps/web.yaml': appYaml({ listen: 9000, active: 'green', greenImage: 'img:broken' }) });
    await agent.reconcile();
    const web = agent.status().apps.web!;
    expect(web).toMatchObject({ activeColor: 'blue', desiredColor: 'green', lastAppliedCommit: 'c1', lastAttemptedCommit: 'c2' });
    expect(web.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['Ready=False/HealthCheckFailed', 'Stalled=True/HealthCheckFailed']);
    const creates = runtime.calls.filter((c) => c.startsWith('create')).length;
    await agent.reconcile();
    await agent.reconcile();
    expect(runtime.calls.filter((c) => c.startsWith('create')).length).toBe(creates);

    prober.healthy = () => true;
    source.commitFiles('c3', { 'apps/web.yaml': appYaml({ listen: 9000, active: 'green', greenImage: 'img:fixed' }) });
    await agent.reconcile();
    expect(router.table.get('web')!.color).toBe('green');
    expect(agent.status().apps.web!.lastAppliedCommit).toBe('c3');
  });

  it('while the newest commit is failed, still heals what serves (from the last applied spec), and stays Stalled', async () => {
    const { source, agent, router, runtime, prober, journal } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000, replicas: 2 }) });
    await agent.reconcile();
    prober.healthy = () => false;
    source.commitFiles('c2', { 'apps/web.yaml': appYaml({ listen: 9000, replicas: 2, active: 'green', greenImage: 'img:broken' }) });
    await agent.reconcile();
    expect(agent.status().apps.web!.conditions.find((c) => c.type === 'Stalled')?.reason).toBe('HealthCheckFailed');
    prober.healthy = () => true;

    const [dead, restarted] = runtime.byColor('web', 'blue').sort((a, b) => a.replica - b.replica);
    runtime.exit(dead!.id);
    runtime.crash(restarted!.id);
    runtime.restart(restarted!.id);
    const calls = runtime.calls.length;
    await agent.reconcile();
    const routed = router.table.get('web')!;
    expect(routed.color).toBe('blue');
    expect(routed.targets.map((t) => t.id)).toContain(restarted!.id);
    expect(routed.targets.map((t) => t.id)).not.toContain(dead!.id);
    expect(routed.targets).toHaveLength(2);
    expect(runtime.calls.slice(calls).filter((c) => c.startsWith('create'))).toEqual(['create web/blue/0']);
    expect(journal.entries.at(-1)).toMatchObject({ commit: 'c1', result: 'applied', reason: 'Drift' });
    expect(agent.status().apps.web!.conditions.find((c) => c.type === 'Stalled')?.reason).toBe('HealthCheckFailed');
    // Nothing left to heal: the failed commit is still not retried.
    const after = runtime.calls.length;
    await agent.reconcile();
    expect(runtime.calls.slice(after).filter((c) => c.startsWith('create'))).toEqual([]);
  });

  it('keeps serving the last good state while the source cannot be fetched', async () => {
    const { source, agent, router, status } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await agent.reconcile();
    source.next = new Error('network down');
    await agent.reconcile();
    expect(router.table.get('web')!.color).toBe('blue');
    expect(status.snapshot().source.error).toMatch(/network down/);
  });

  it('prunes an app removed from the repository, but never everything on an empty commit', async () => {
    const { source, agent, router, runtime } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }), 'apps/api.yaml': appYaml({ name: 'api', listen: 9001 }) });
    await agent.reconcile();
    source.commitFiles('c2', {});
    await agent.reconcile();
    expect([...router.table.keys()].sort()).toEqual(['api', 'web']);
    const api = [...runtime.targets.values()].filter((t) => t.app === 'api').map((t) => t.id).sort();
    runtime.calls.length = 0;
    source.commitFiles('c3', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await agent.reconcile();
    expect([...router.table.keys()]).toEqual(['web']);
    expect([...runtime.targets.values()].every((t) => t.app === 'web')).toBe(true);
    expect(agent.status().apps.api).toBeUndefined();
    // Unrouted first, then drained with the app's own timeout, then removed.
    const drain = router.drains.find((d) => d.ids.includes(api[0]!));
    expect(drain && [...drain.ids].sort()).toEqual(api);
    expect(drain?.timeoutMs).toBe(5000);
    expect(runtime.calls.slice(0, drain!.at)).toEqual(['unroute api']);
    expect(runtime.calls.slice(drain!.at).map((c) => c.split(' ')[0])).toEqual(api.map(() => 'remove'));
  });

  it('heals a target that died: a new one is created and routed, and the journal calls it drift', async () => {
    const { source, agent, router, runtime, journal } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await agent.reconcile();
    const [blue] = runtime.byColor('web', 'blue');
    runtime.exit(blue!.id);
    await agent.reconcile();
    const routed = router.table.get('web')!.targets.map((t) => t.id);
    expect(routed).not.toContain(blue!.id);
    expect(runtime.byColor('web', 'blue').filter((t) => t.running)).toHaveLength(1);
    expect(journal.entries.map((e) => `${e.commit}:${e.result}:${e.reason ?? '-'}`)).toEqual(['c1:applied:-', 'c1:applied:Drift']);
  });

  it('reports a crash-looping target (Stalled, CrashLoopBackOff, restart count) without replacing it, journals it once, and is Ready again once it serves', async () => {
    const { source, agent, router, runtime, journal } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000, replicas: 2 }) });
    await agent.reconcile();
    const [looping] = runtime.byColor('web', 'blue');
    runtime.crash(looping!.id, 3);
    await agent.reconcile();
    runtime.crash(looping!.id, 3);
    await agent.reconcile();
    const web = agent.status().apps.web!;
    expect(web.conditions.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'CrashLoopBackOff', message: expect.stringMatching(/blue replica 0 .*restarted 2 time\(s\), exited with code 3/) });
    expect(web.targets.blue.find((t) => t.id === looping!.id.slice(0, 12))).toMatchObject({ state: 'restarting', restarts: 2, exitCode: 3, routed: false });
    expect(router.table.get('web')!.targets.map((t) => t.id)).not.toContain(looping!.id);
    expect(runtime.byColor('web', 'blue')).toHaveLength(2);
    expect(runtime.calls.filter((c) => c.startsWith('create'))).toHaveLength(4);
    expect(journal.entries.filter((e) => e.reason === 'CrashLoopBackOff')).toHaveLength(1);

    runtime.restart(looping!.id);
    await agent.reconcile();
    expect(agent.status().apps.web!.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(router.table.get('web')!.targets.map((t) => t.id)).toContain(looping!.id);
  });

  it('says when a crash-looping target was killed by the OOM killer, and what to change', async () => {
    const { source, agent, runtime } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000, replicas: 2 }) });
    await agent.reconcile();
    const [hungry] = runtime.byColor('web', 'blue');
    runtime.crash(hungry!.id, 137, true);
    await agent.reconcile();
    const web = agent.status().apps.web!;
    expect(web.conditions.find((c) => c.type === 'Stalled')?.message).toMatch(/blue replica 0 .*exited with code 137 \(killed by the OOM killer: it needs more memory than its limit, resources\.memory\)/);
    expect(web.targets.blue.find((t) => t.id === hungry!.id.slice(0, 12))).toMatchObject({ state: 'restarting', exitCode: 137, oomKilled: true });
  });

  it('makes one container list and one data-plane read in a pass that changes nothing, however many apps', async () => {
    const { source, agent, router, runtime } = setup();
    const calls: string[] = [];
    const count = <T extends object>(o: T, name: string, methods: (keyof T)[]) => {
      for (const m of methods) {
        const f = (o[m] as (...a: unknown[]) => unknown).bind(o);
        (o as Record<keyof T, unknown>)[m] = (...a: unknown[]) => (calls.push(`${name}.${String(m)}`), f(...a));
      }
    };
    count(runtime, 'runtime', ['list', 'inspect', 'create', 'remove']);
    count(router, 'router', ['apply', 'remove', 'routes', 'drain', 'counters', 'traffic']);
    const apps = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`apps/app${i}.yaml`, appYaml({ name: `app${i}`, listen: 9000 + i })]));
    for (const n of [5, 40]) {
      source.commitFiles(`c${n}`, apps(n));
      await agent.reconcile();
      expect(router.table.size).toBe(n);
      calls.length = 0;
      await agent.reconcile();
      expect(calls.sort()).toEqual(['router.routes', 'runtime.list']);
    }
  });

  it('marks a target the data plane took out of rotation (passive health) in the status', async () => {
    const { source, agent, router, runtime } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000, replicas: 2 }) });
    await agent.reconcile();
    const [failing, fine] = runtime.byColor('web', 'blue');
    router.counted = { blue: { requests: 9, errors5xx: 0, inFlight: 0, ejected: [failing!.id] } };
    expect(agent.status().apps.web!.targets.blue.some((t) => t.ejected)).toBe(false);
    // Read when asked, with no pass in between.
    const targets = (await agent.liveStatus()).apps.web!.targets.blue;
    expect(targets.find((t) => t.id === failing!.id.slice(0, 12))).toMatchObject({ ejected: true });
    expect(targets.find((t) => t.id === fine!.id.slice(0, 12))?.ejected).toBeUndefined();
  });

  it('runs one more pass when a container event arrives during a pass, so the event is not lost', async () => {
    const { source, agent, runtime } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await agent.reconcile();
    const [blue] = runtime.byColor('web', 'blue');
    let fetches = 0;
    const latest = source.latest.bind(source);
    source.latest = async () => {
      // The target dies while the pass is under way, after it looked at the host.
      if (++fetches === 1) queueMicrotask(() => (runtime.exit(blue!.id), agent.trigger()));
      return latest();
    };
    await agent.reconcile();
    expect(fetches).toBe(2);
    expect(runtime.byColor('web', 'blue').filter((t) => t.running).map((t) => t.id)).not.toContain(blue!.id);
  });

  it('heals an app on its container event at once, while the pass is still busy gating another app', async () => {
    const { source, agent, runtime, router, prober } = setup();
    const files = { 'apps/web.yaml': appYaml({ listen: 9000, replicas: 2 }), 'apps/api.yaml': appYaml({ name: 'api', listen: 9001 }) };
    source.commitFiles('c1', files);
    await agent.reconcile();
    // api's next commit is stuck in its gate until `release` is called.
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const known = new Set([...runtime.targets.values()].map((t) => t.address!.port));
    prober.probe = async (address) => {
      if (!known.has(address.port) && [...runtime.targets.values()].some((t) => t.app === 'api' && t.address?.port === address.port)) await stuck;
      return { ok: true, detail: 'HTTP 200' };
    };
    source.commitFiles('c2', { ...files, 'apps/api.yaml': appYaml({ name: 'api', listen: 9001, greeting: { blue: 'new' } }) });
    runtime.calls.length = 0;
    const pass = agent.reconcile();
    await until(() => runtime.calls.includes('create api/blue/0'));
    const [dead] = runtime.byColor('web', 'blue');
    runtime.exit(dead!.id);
    agent.targetEvent('web');
    // web is healed while api's gate still waits: its dead target is out of the route and replaced.
    await until(() => router.table.get('web')!.targets.length === 2 && !router.table.get('web')!.targets.some((t) => t.id === dead!.id));
    expect(runtime.byColor('api', 'blue')).toHaveLength(2);
    release();
    await pass;
    expect(runtime.byColor('api', 'blue')).toHaveLength(1);
    expect(runtime.byColor('web', 'blue').filter((t) => t.running)).toHaveLength(2);
  });

  it('reads env values from host files, rolls the targets when a file changes, and changes nothing when one is missing', async () => {
    const { source, agent, runtime, router, secrets } = setup();
    const withSecret = appYaml({ listen: 9000 }).replace('      GREETING: hello', '      GREETING: hello\n      TOKEN: { file: /etc/switchyard/secrets/token }');
    secrets.files.set('/etc/switchyard/secrets/token', 's3cret\n');
    source.commitFiles('c1', { 'apps/web.yaml': withSecret });
    await agent.reconcile();
    const first = router.table.get('web')!.targets.map((t) => t.id);
    expect(first).toHaveLength(1);
    secrets.files.set('/etc/switchyard/secrets/token', 'rotated\n');
    await agent.reconcile();
    const second = router.table.get('web')!.targets.map((t) => t.id);
    expect(second).not.toEqual(first);
    const calls = runtime.calls.length;
    secrets.files.delete('/etc/switchyard/secrets/token');
    await agent.reconcile();
    expect(runtime.calls.length).toBe(calls);
    expect(router.table.get('web')!.targets.map((t) => t.id)).toEqual(second);
  });

  it('leaves an app with an unreadable env file as it is (Stalled, SecretUnavailable, never pruned) and goes on with the others', async () => {
    const { source, agent, runtime, router, secrets } = setup();
    const web = (active: 'blue' | 'green') => appYaml({ listen: 9000, active }).replace('      GREETING: hello', '      GREETING: hello\n      TOKEN: { file: /etc/switchyard/secrets/token }');
    const api = (active: 'blue' | 'green') => appYaml({ name: 'api', listen: 9001, active });
    secrets.files.set('/etc/switchyard/secrets/token', 's3cret\n');
    source.commitFiles('c1', { 'apps/web.yaml': web('blue'), 'apps/api.yaml': api('blue') });
    await agent.reconcile();
    const webTargets = runtime.byColor('web', 'blue').map((t) => t.id);
    secrets.files.delete('/etc/switchyard/secrets/token');
    source.commitFiles('c2', { 'apps/web.yaml': web('green'), 'apps/api.yaml': api('green') });
    expect(await agent.reconcile()).toBe(true);
    expect(router.table.get('api')!.color).toBe('green');
    expect(router.table.get('web')!.color).toBe('blue');
    expect(runtime.byColor('web', 'blue').map((t) => t.id)).toEqual(webTargets);
    expect(agent.status().apps.web!.conditions.find((c) => c.type === 'Stalled')).toMatchObject({ reason: 'SecretUnavailable', message: expect.stringMatching(/apps\/web\.yaml .*env\.TOKEN: cannot read \/etc\/switchyard\/secrets\/token/) });
    secrets.files.set('/etc/switchyard/secrets/token', 's3cret\n');
    await agent.reconcile();
    expect(router.table.get('web')!.color).toBe('green');
  });

  it('keeps the old color warm for scaleDownDelay after a flip, then removes it; a rollback brings it back gated', async () => {
    const { source, agent, runtime, router, clock, prober } = setup();
    const yaml = (active: 'blue' | 'green') => appYaml({ listen: 9000, active }).replace('drainTimeout: 5s', 'drainTimeout: 5s\nscaleDownDelay: 10m');
    source.commitFiles('c1', { 'apps/web.yaml': yaml('blue') });
    await agent.reconcile();
    source.commitFiles('c2', { 'apps/web.yaml': yaml('green') });
    await agent.reconcile();
    expect(router.table.get('web')!.color).toBe('green');
    clock.time += 9 * 60_000;
    await agent.reconcile();
    expect(runtime.byColor('web', 'blue')).toHaveLength(1);
    clock.time += 60_000;
    await agent.reconcile();
    expect(runtime.byColor('web', 'blue')).toEqual([]);
    expect(runtime.byColor('web', 'green')).toHaveLength(1);
    const probes = prober.probes;
    source.commitFiles('c3', { 'apps/web.yaml': yaml('blue') });
    await agent.reconcile();
    expect(router.table.get('web')!.color).toBe('blue');
    expect(runtime.byColor('web', 'blue')).toHaveLength(1);
    expect(prober.probes).toBeGreaterThan(probes);
  });

  it.each(BAD_INPUTS)('changes nothing live for a commit with $name', async ({ text }) => {
    const { source, agent, runtime, router } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': VALID_APP });
    await agent.reconcile();
    const calls = runtime.calls.length;
    const applied = router.applied.length;
    source.next = { commit: 'c2', info: { author: 'a', message: 'm', timestamp: 0 }, files: [{ path: 'apps/web.yaml', content: typeof text === 'string' ? new TextEncoder().encode(text) : text }] };
    await agent.reconcile();
    await agent.reconcile();
    expect(runtime.calls.length).toBe(calls);
    expect(router.applied.length).toBe(applied);
    expect(agent.status().desired).toMatchObject({ commit: 'c1', lastAttemptedCommit: 'c2', errors: [expect.stringMatching(/^apps\/web\.yaml:/)] });
  });

  it('journals every attempt: who changed what, the result, the reason and how long each step took', async () => {
    const { source, agent, journal, prober } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await agent.reconcile();
    prober.healthy = () => false;
    source.commitFiles('c2', { 'apps/web.yaml': appYaml({ listen: 9000, active: 'green', greenImage: 'img:bad' }) });
    await agent.reconcile();
    source.commitFiles('c3', { 'apps/web.yaml': 'name: [' });
    await agent.reconcile();
    expect(journal.entries.map((e) => [e.app, e.commit, e.result, e.reason ?? '-'])).toEqual([
      ['web', 'c1', 'applied', '-'],
      ['web', 'c2', 'failed', 'HealthCheckFailed'],
      ['*', 'c3', 'refused', 'ValidationFailed'],
    ]);
    expect(journal.entries[0]).toMatchObject({ author: 'Test <t@example.com>', message: 'test', color: 'blue', changes: expect.arrayContaining(['route blue on port 9000']) });
    expect(journal.entries[0]!.durations).toMatchObject({ bringUpMs: expect.any(Number), gateMs: expect.any(Number), flipMs: expect.any(Number), totalMs: expect.any(Number) });
    expect(journal.entries[1]).toMatchObject({ color: 'blue', detail: expect.stringMatching(/green is not healthy/) });
  });

  it('lets the pass in progress finish its flip when told to stop (SIGTERM)', async () => {
    const { source, agent, prober, router, journal, clock } = setup();
    // Virtual time that yields to the event loop: the tip watcher polls while the gate is held.
    clock.sleep = async (ms: number) => {
      clock.time += ms;
      await new Promise((r) => setImmediate(r));
    };
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    // The health gate answers only when the test says so: the stop arrives while the flip is gated.
    let release!: () => void;
    const gated = new Promise<void>((r) => (release = r));
    const probe = prober.probe.bind(prober);
    prober.probe = async (address) => {
      await gated;
      return probe(address);
    };
    const stop = new AbortController();
    const running = agent.run(1000, stop.signal);
    await until(() => agent.status().passRunningSince !== undefined && prober.probes === 0 && router.table.size === 0 && journal.entries.length === 0 && Boolean(agent.status().apps.web?.conditions.some((c) => c.reason === 'Progressing')));
    stop.abort();
    release();
    await running;
    expect(router.table.get('web')).toMatchObject({ color: 'blue' });
    expect(journal.entries).toEqual([expect.objectContaining({ app: 'web', commit: 'c1', result: 'applied' })]);
  });

  it('raises the stale alarm when no pass has succeeded for staleAfter intervals, backing off in between', async () => {
    const { source, agent, clock } = setup();
    const events: Record<string, unknown>[] = [];
    (agent as unknown as { deps: { notify: (e: Record<string, unknown>) => void } }).deps.notify = (e) => events.push(e);
    source.next = new Error('git server down');
    const stop = new AbortController();
    const start = clock.now();
    const sleeps: number[] = [];
    const sleep = clock.sleep.bind(clock);
    clock.sleep = async (ms: number) => {
      sleeps.push(ms);
      if (sleeps.length >= 6) stop.abort();
      return sleep(ms);
    };
    await agent.run(1000, stop.signal);
    // Each failed pass waits longer (2, 4, 8 ... times the interval, plus jitter under 10%).
    expect(sleeps.map((ms) => Math.floor(ms / 1000))).toEqual([2, 4, 8, 16, 32, 64]);
    const st = agent.status();
    expect(st.stale).toMatchObject({ message: expect.stringMatching(/no pass has succeeded since/) });
    expect(events).toEqual([{ event: 'stale', message: st.stale!.message }]);
    expect(st.stale!.since - start).toBeGreaterThanOrEqual(3000);

    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    expect(await agent.reconcile()).toBe(true);
    expect(agent.status().stale).toBeUndefined();
  });

  it('raises the stale alarm when an app keeps failing although every pass succeeds, and lowers it once the app serves', async () => {
    const { source, agent, clock, router } = setup();
    const events: Record<string, unknown>[] = [];
    (agent as unknown as { deps: { notify: (e: Record<string, unknown>) => void } }).deps.notify = (e) => events.push(e);
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    // The data plane refuses every route change (a passing error, retried each pass).
    const apply = router.apply.bind(router);
    let broken = true;
    router.apply = async (route) => {
      if (broken) throw new SwitchyardError('RouteFailed', 'HAProxy runtime API: no answer');
      return apply(route);
    };
    const stop = new AbortController();
    const start = clock.now();
    const sleep = clock.sleep.bind(clock);
    // Virtual time drives it: the data plane is broken for 15 s, and the loop runs for 30 s.
    clock.sleep = async (ms: number) => {
      if (clock.now() - start > 15_000) broken = false;
      if (clock.now() - start > 30_000) stop.abort();
      return sleep(ms);
    };
    await agent.run(1000, stop.signal);
    const stale = events.filter((e) => e.event === 'stale');
    expect(stale).toEqual([{ event: 'stale', message: expect.stringMatching(/^web has been failing since 1970-/) }]);
    expect(Date.parse(String(stale[0]!.message).split(" since ")[1]!)).toBeGreaterThanOrEqual(start);
    // Serving again: the alarm is down.
    expect(router.table.get('web')!.color).toBe('blue');
    expect(agent.status().stale).toBeUndefined();
  });

  it('says since when a pass has been running while it runs (one stuck on something unbounded shows)', async () => {
    const { source, agent, clock } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    const latest = source.latest.bind(source);
    let release: () => void = () => {};
    source.latest = () => new Promise((resolve) => (release = () => resolve(latest())));
    expect(agent.status().passRunningSince).toBeUndefined();
    const started = clock.now();
    const pass = agent.reconcile();
    await new Promise((r) => setImmediate(r));
    expect(agent.status().passRunningSince).toBe(started);
    release();
    expect(await pass).toBe(true);
    expect(agent.status().passRunningSince).toBeUndefined();
  });

  it('leaves a suspended app alone, remembers the suspension across a restart (on disk), and catches up on resume', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-susp-'));
    try {
      const first = setup({ suspensions: new FileSuspensions(join(dir, 'test.suspended.json')) });
      first.source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
      await first.agent.reconcile();
      expect(await first.agent.suspend('web')).toBe(true);
      expect(await first.agent.suspend('nope')).toBe(false);
      first.source.commitFiles('c2', { 'apps/web.yaml': appYaml({ listen: 9000, active: 'green' }) });
      await first.agent.reconcile();
      expect(first.router.table.get('web')!.color).toBe('blue');
      expect(first.agent.status().apps.web).toMatchObject({ suspended: true, lastAppliedCommit: 'c1' });

      // A new process: the same host and data plane, and only what the first one left on disk.
      const second = setup({ suspensions: new FileSuspensions(join(dir, 'test.suspended.json')) });
      second.source.next = first.source.next;
      for (const [id, t] of first.runtime.targets) second.runtime.targets.set(id, t);
      second.router.table.set('web', first.router.table.get('web')!);
      await second.agent.reconcile();
      expect(second.router.table.get('web')!.color).toBe('blue');
      expect(second.agent.status().apps.web).toMatchObject({ suspended: true });
      expect(second.runtime.calls.filter((c) => c.startsWith('create'))).toEqual([]);
      expect(await second.agent.resume('web')).toBe(true);
      await second.agent.reconcile();
      expect(second.router.table.get('web')!.color).toBe('green');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on a cron schedule, sleeps until woken after a good pass, and still backs off after a failed one', async () => {
    const { source, agent, clock } = setup();
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    const stop = new AbortController();
    const sleeps: number[] = [];
    const sleep = clock.sleep.bind(clock);
    clock.sleep = async (ms: number) => {
      if (ms <= 60_000) return sleep(ms); // the health gate's probes, the tip watcher's interval
      sleeps.push(ms);
      if (sleeps.length === 1) source.next = new Error('down');
      if (sleeps.length >= 3) stop.abort();
      return sleep(ms);
    };
    await agent.run(60_000, stop.signal, { pollOnInterval: false });
    expect(sleeps[0]).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(Math.floor(sleeps[1]! / 60_000)).toBe(2);
    expect(Math.floor(sleeps[2]! / 60_000)).toBe(4);
  });

  it('notifies each flip result, with the reason when it failed', async () => {
    const { source, agent, prober } = setup();
    const events: Record<string, unknown>[] = [];
    (agent as unknown as { deps: { notify: (e: Record<string, unknown>) => void } }).deps.notify = (e) => events.push(e);
    source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await agent.reconcile();
    prober.healthy = () => false;
    source.commitFiles('c2', { 'apps/web.yaml': appYaml({ listen: 9000, active: 'green', greenImage: 'img:bad' }) });
    await agent.reconcile();
    expect(events).toEqual([
      { event: 'applied', app: 'web', commit: 'c1', color: 'blue' },
      { event: 'failed', app: 'web', commit: 'c2', color: 'blue', reason: 'HealthCheckFailed', message: expect.stringMatching(/green is not healthy/) },
    ]);
  });
});
