// The HAProxy driver against Debian's real haproxy: flips through the runtime API, checked reloads,
// server state kept across them, adoption by a new agent process; and the embedded proxy's bar: nothing
// to the old color after a switch (kept-alive connections too), retry on a refused connection, WebSockets
// through a flip with the grace-window close, the flip read back from HAProxy itself.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { HaproxyRouter, haproxyPaths } from '../../src/adapters/haproxy/haproxy-router.js';
import { SLOTS } from '../../src/adapters/haproxy/config.js';
import type { AppRoute } from '../../src/core/route.js';
import { startBackend, type Backend } from '../support/backend.js';
import { freePort } from '../support/ports.js';
import { get, keptAliveThroughFlip, startLoad } from '../support/load.js';
import { instanceName, stateDir as newStateDir, until } from '../support/run.js';
import { heldClock, openTunnel } from '../support/tunnel.js';
import { haproxyCommand } from '../../src/adapters/haproxy/runtime-api.js';

describe('haproxy router (real haproxy 2.6)', () => {
  const paths = haproxyPaths(newStateDir(), instanceName());
  let router: HaproxyRouter;
  let blue: Backend[];
  let green: Backend[];
  let port: number;
  // Counts the driver's sleeps: a drain that polls is one still waiting, seen without timing it.
  let sleeps = 0;
  const clock = { now: systemClock.now, sleep: (ms: number, signal?: AbortSignal) => (sleeps++, systemClock.sleep(ms, signal)) };
  const route = (color: 'blue' | 'green', more: Partial<AppRoute> = {}): AppRoute => ({
    app: 'web', listen: { host: '127.0.0.1', port }, color, drainTimeoutMs: 5000,
    targets: [...blue, ...green].map((b) => b.target),
    routing: { preview: { header: 'X-Switchyard-Color', cookie: 'switchyard-color' }, rules: [] },
    ...more,
  });

  beforeAll(async () => {
    blue = [await startBackend('blue-0', 'blue'), await startBackend('blue-1', 'blue')];
    green = [await startBackend('green-0', 'green'), await startBackend('green-1', 'green')];
    port = await freePort();
    router = new HaproxyRouter(paths, clock);
  });
  afterAll(async () => {
    await router.shutdown().catch(() => undefined);
    for (const b of [...blue, ...green]) await b.close();
  });

  it('starts HAProxy in master-worker mode, and a second driver adopts it', async () => {
    expect(await router.start()).toEqual({ adopted: false });
    expect(await new HaproxyRouter(paths, systemClock).start()).toEqual({ adopted: true });
    expect(await router.workers()).toHaveLength(1);
  });

  it('serves the active color, round-robin, and the other color by preview header', async () => {
    await router.apply(route('blue'));
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await get(port)).body);
    expect(bodies.sort()).toEqual(['blue-0', 'blue-0', 'blue-1', 'blue-1']);
    expect((await get(port, undefined, '/', { 'x-switchyard-color': 'green' })).body).toMatch(/^green/);
  });

  it('flips through the runtime API under load: no reload, no failed request, confirmed by read-back', async () => {
    const workers = await router.workers();
    const load = startLoad(port);
    await until('traffic', () => (load.counts.ok > 200 ? true : undefined));
    await router.apply(route('green'));
    const afterFlip = load.counts.ok + load.counts.failed;
    await until('more traffic', () => (load.counts.ok > afterFlip + 200 ? true : undefined));
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(await router.workers()).toEqual(workers);
    expect(readFileSync(paths.activeMap, 'utf8')).toBe('web be_web_green\n');
    for (let i = 0; i < 6; i++) expect((await get(port)).body).toMatch(/^green/);
  });

  it('reloads seamlessly for a configuration change, keeping the flip and failing no request', async () => {
    const workers = await router.workers();
    const otherPort = await freePort();
    const load = startLoad(port);
    await until('traffic', () => (load.counts.ok > 200 ? true : undefined));
    const apiTargets = [...blue, ...green].map((b) => ({ ...b.target, id: `api-${b.target.id}` }));
    await router.apply({ ...route('blue'), app: 'api', listen: { host: '127.0.0.1', port: otherPort }, targets: apiTargets });
    const afterReload = load.counts.ok;
    await until('traffic after the reload', () => (load.counts.ok > afterReload + 200 ? true : undefined));
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(await router.workers()).not.toEqual(workers);
    expect((await get(port)).body).toMatch(/^green/);
    expect((await get(otherPort)).body).toMatch(/^blue/);
    expect(readFileSync(paths.serverState, 'utf8')).toMatch(/be_web_green/);
  });

  it('serves every app of concurrent applies (the pass applies apps at once): no reload loses another\'s', async () => {
    const apps = ['a1', 'a2', 'a3'];
    const ports = [await freePort(), await freePort(), await freePort()];
    await Promise.all(apps.map((app, i) => router.apply({ ...route('blue'), app, listen: { host: '127.0.0.1', port: ports[i]! }, targets: blue.map((b) => ({ ...b.target, id: `${app}-${b.target.id}` })) })));
    expect((await router.routes()).map((r) => r.app).sort()).toEqual(expect.arrayContaining(apps));
    for (const p of ports) expect((await get(p)).body).toMatch(/^blue/);
    await Promise.all(apps.map((app) => router.remove(app)));
    expect((await router.routes()).map((r) => r.app)).not.toEqual(expect.arrayContaining(['a1']));
  });

  it('applies the routes that waited together, with one reload; a route HAProxy refuses fails alone', async () => {
    const reloads = async () => Number(/^\d+\s+master\s+(\d+)/m.exec(await haproxyCommand(paths.masterSocket, 'show proc'))?.[1]);
    const apps = Array.from({ length: 8 }, (_, i) => `batch${i}`);
    const ports: number[] = [];
    for (const _ of apps) ports.push(await freePort());
    const appRoute = (app: string, i: number, more: Partial<AppRoute> = {}): AppRoute => ({ ...route('blue'), app, listen: { host: '127.0.0.1', port: ports[i]! }, targets: blue.map((b) => ({ ...b.target, id: `${app}-${b.target.id}` })), ...more });
    const before = await reloads();
    const tooMany: AppRoute = { ...appRoute('toomany', 0), listen: { host: '127.0.0.1', port: await freePort() }, targets: Array.from({ length: SLOTS + 1 }, (_, i) => ({ ...blue[0]!.target, id: `toomany-${i}` })) };
    const results = await Promise.allSettled([...apps.map((app, i) => router.apply(appRoute(app, i))), router.apply(tooMany)]);
    expect(results.slice(0, 8).every((r) => r.status === 'fulfilled')).toBe(true);
    expect(results[8]).toMatchObject({ status: 'rejected', reason: { code: 'RouteFailed', message: expect.stringMatching(/more than the 16 HAProxy slots/) } });
    // Made at once, the eight wait together and reload once (one reload each before batches).
    expect((await reloads()) - before).toBe(1);
    for (const p of ports) expect((await get(p)).body).toMatch(/^blue/);

    // HAProxy refuses the file one route makes: the batch is applied again one route at a time.
    const [p1, p2] = [await freePort(), await freePort()];
    const refusedBatch = await Promise.allSettled([
      router.apply({ ...appRoute('batch0', 0), color: 'green', targets: [...blue, ...green].map((b) => ({ ...b.target, id: `batch0-${b.target.id}` })) }),
      router.apply({ ...appRoute('good', 0), listen: { host: '127.0.0.1', port: p1 } }),
      router.apply({ ...appRoute('bad', 0), listen: { host: '127.0.0.1', port: p2 }, routing: { rules: [{ header: 'X Bad Header', value: '1', color: 'blue' }] } }),
    ]);
    expect(refusedBatch.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((await get(ports[0]!)).body).toMatch(/^green/);
    expect((await get(p1)).body).toMatch(/^blue/);
    expect((await router.routes()).map((r) => r.app)).not.toContain('bad');

    // In the order asked: an app removed and then applied again, behind another change, is served.
    await Promise.all([router.apply({ ...appRoute('batch2', 2), color: 'green', targets: [...blue, ...green].map((b) => ({ ...b.target, id: `batch2-${b.target.id}` })) }), router.remove('batch1'), router.apply(appRoute('batch1', 1))]);
    expect((await router.routes()).map((r) => r.app)).toContain('batch1');
    expect((await get(ports[1]!)).body).toMatch(/^blue/);
    for (const app of [...apps, 'good']) await router.remove(app);
  });

  it('keeps the running configuration when HAProxy refuses a new one', async () => {
    const before = readFileSync(paths.config, 'utf8');
    const bad = route('green', { routing: { rules: [{ header: 'X Bad Header', value: '1', color: 'blue' }] } });
    // The file comes from the commit: held against it (needs-human), unlike a runtime-API hiccup.
    await expect(router.apply(bad)).rejects.toMatchObject({ code: 'RouteFailed', retry: 'needs-human', message: expect.stringMatching(/refused the new configuration/) });
    expect(readFileSync(paths.config, 'utf8')).toBe(before);
    expect((await get(port)).body).toMatch(/^green/);
    expect((await router.routes()).find((r) => r.app === 'web')?.routing?.rules).toEqual([]);
  });

  it('drains a retired target: its slow request finishes before the drain returns', async () => {
    // Workers from earlier reloads count as in flight; wait them out so the target's own session is what holds the drain.
    await until('no old workers', async () => ((await haproxyCommand(paths.masterSocket, 'show proc')).split('# old workers')[1]?.match(/^\d+\s+worker/m) ? undefined : true));
    await router.apply(route('blue'));
    const hitsBefore = blue.reduce((n, b) => n + b.hits, 0);
    const slow = get(port, undefined, '/slow');
    await until('the slow request to reach blue', () => (blue.reduce((n, b) => n + b.hits, 0) > hitsBefore ? true : undefined));
    const workers = await router.workers();
    await router.apply(route('green', { targets: green.map((b) => b.target) }));
    expect(await router.workers()).toEqual(workers);
    let drained: number | undefined;
    const polled = sleeps;
    const drain = router.drain(blue.map((b) => b.target.id), 30_000).then((n) => (drained = n));
    expect((await get(port)).body).toMatch(/^green/);
    await until('the drain to poll three times, or return', () => (sleeps >= polled + 3 || drained !== undefined ? true : undefined));
    expect(drained).toBeUndefined();
    blue.forEach((b) => b.release());
    expect((await slow).body).toMatch(/^blue/);
    await drain;
    expect(drained).toBe(0);
  });

  it('counts requests per color from HAProxy stats', async () => {
    const c = await router.counters('web');
    expect(c.green?.requests).toBeGreaterThan(0);
    expect(c.blue?.requests).toBeGreaterThan(0);
    const all = await router.traffic();
    expect(Object.keys(all)).toEqual((await router.routes()).map((r) => r.app));
    expect(all.web?.green?.requests).toBeGreaterThanOrEqual(c.green!.requests);
  });

  it('is adopted with its routes by a new driver (an agent restart) without a reload', async () => {
    const workers = await router.workers();
    const again = new HaproxyRouter(paths, systemClock);
    expect(await again.start()).toEqual({ adopted: true });
    expect((await again.routes()).map((r) => `${r.app}:${r.color}`).sort()).toEqual(['api:blue', 'web:green']);
    expect(await again.workers()).toEqual(workers);
  });

  it('serves preview by cookie and on its own port, rules, and a sticky canary; and falls back to the active color while the standby has no server up', async () => {
    const edge = await freePort();
    const previewPort = await freePort();
    const ids = (bs: Backend[]) => bs.map((b) => ({ ...b.target, id: `edge-${b.target.id}` }));
    const routing = {
      preview: { header: 'X-Switchyard-Color', cookie: 'switchyard-color', port: previewPort },
      canary: { weight: 100, sticky: true },
      rules: [{ header: 'X-Beta', value: 'on', color: 'blue' as const }, { cookie: 'beta', value: 'yes', color: 'green' as const }],
    };
    const edgeRoute = (targets: ReturnType<typeof ids>): AppRoute => ({ app: 'edge', listen: { host: '127.0.0.1', port: edge }, color: 'blue', drainTimeoutMs: 5000, targets, routing });
    await router.apply(edgeRoute([...ids(blue), ...ids(green)]));
    expect((await get(edge, undefined, '/', { cookie: 'switchyard-color=green' })).body).toMatch(/^green/);
    expect((await get(previewPort)).body).toMatch(/^green/);
    // A 100% canary sends a new client to the standby and pins it there by cookie; a pinned client stays.
    const first = await get(edge);
    expect(first.body).toMatch(/^green/);
    expect(String(first.headers['set-cookie'])).toMatch(/^switchyard-canary=green; Path=\//);
    expect((await get(edge, undefined, '/', { cookie: 'switchyard-canary=blue' })).body).toMatch(/^blue/);
    // Rules win over the canary, by header and by cookie.
    expect((await get(edge, undefined, '/', { 'x-beta': 'on' })).body).toMatch(/^blue/);
    expect((await get(edge, undefined, '/', { cookie: 'beta=yes' })).body).toMatch(/^green/);

    // The standby is unhealthy: no green servers. Rule, canary and cookie traffic gets blue; a preview a 503.
    await router.apply(edgeRoute(ids(blue)));
    expect((await get(edge)).body).toMatch(/^blue/);
    expect((await get(edge, undefined, '/', { cookie: 'switchyard-canary=green' })).body).toMatch(/^blue/);
    expect((await get(edge, undefined, '/', { cookie: 'beta=yes' })).body).toMatch(/^blue/);
    expect((await get(edge, undefined, '/', { 'x-switchyard-color': 'green' })).status).toBe(503);
    await router.remove('edge');
  });
  describe('held to the embedded proxy\'s bar', () => {
    it('sends nothing to the old color after the switch, also on kept-alive connections, with zero failures', async () => {
      await router.apply(route('blue'));
      const results = await keptAliveThroughFlip(port, () => router.apply(route('green')));
      expect(results).toMatchObject({ failed: 0, ok: 20 * 60, blueAfterSwitch: 0 });
      expect(results.greenAfterSwitch).toBeGreaterThan(0);
    });

    it('retries a request on another server when one refuses connections', async () => {
      const dead = { id: 'dead', color: 'green' as const, host: '127.0.0.1', port: await freePort() };
      await router.apply(route('green', { targets: [dead, green[0]!.target, ...blue.map((b) => b.target)] }));
      const before = green[0]!.hits;
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await get(port));
      expect(answers.map((a) => [a.status, a.body])).toEqual(Array(6).fill([200, 'green-0']));
      expect(green[0]!.hits - before).toBe(6);
      await router.apply(route('green'));
    });

    it('confirms a flip by reading the map back from the running HAProxy, not from its file', async () => {
      await router.apply(route('blue'));
      expect(await haproxyCommand(paths.adminSocket, `show map ${paths.activeMap}`)).toMatch(/\bweb be_web_blue\b/);
      await router.apply(route('green'));
      const live = await haproxyCommand(paths.adminSocket, `show map ${paths.activeMap}`);
      expect(live).toMatch(/\bweb be_web_green\b/);
      expect(live).not.toMatch(/be_web_blue/);
    });

    it('keeps a WebSocket on the old color through the flip, then closes it at a random moment of the drain window', async () => {
      // A driver adopting the same HAProxy (as a restarted agent does), on a clock the test releases.
      const { held, clock } = heldClock();
      const graced = new HaproxyRouter(paths, clock, { random: () => 0.5 });
      expect(await graced.start()).toEqual({ adopted: true });
      await graced.apply(route('blue'));
      const tunnels = [await openTunnel(port), await openTunnel(port)];
      expect(tunnels.every((t) => t.text().includes('hello from blue'))).toBe(true);
      const preview = await openTunnel(port, 'x-switchyard-color: green\r\n');
      expect(preview.text()).toMatch(/hello from green/);

      await graced.apply(route('green', { drainTimeoutMs: 30_000 }));
      // One grace timer per tunnel on the old color (random 0.5: half the window); none for the preview.
      await until('the grace timers', () => (held.length === 2 ? true : undefined), 10_000);
      expect(held.map((h) => h.ms)).toEqual([15_000, 15_000]);
      tunnels[0]!.socket.write('still here\n');
      await until('the echo after the flip', () => (tunnels[0]!.text().includes('still here') ? true : undefined));
      expect((await get(port)).body).toMatch(/^green/);

      held.forEach((h) => h.release());
      await Promise.all(tunnels.map((t) => t.closed));
      preview.socket.write('preview still here\n');
      await until('the preview tunnel to echo', () => (preview.text().includes('preview still here') ? true : undefined));
      preview.socket.destroy();
      await graced.close();
    });
  });
});
