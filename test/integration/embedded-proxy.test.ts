import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { EmbeddedProxy } from '../../src/router/embedded-proxy.js';
import type { AppRoute, RouteTarget } from '../../src/router/route.js';
import { freePort, startBackend, type Backend } from '../support/backend.js';

function get(port: number, path = '/', agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: agent ?? false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const route = (port: number, color: 'blue' | 'green', targets: RouteTarget[]): AppRoute => ({
  app: 'web', listen: { host: '127.0.0.1', port }, color, targets, drainTimeoutMs: 5000,
});

describe('embedded proxy', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  async function setup() {
    const proxy = new EmbeddedProxy(systemClock);
    const blue = [await startBackend('blue-0', 'blue'), await startBackend('blue-1', 'blue')];
    const green = [await startBackend('green-0', 'green'), await startBackend('green-1', 'green')];
    const port = await freePort();
    cleanup.push(() => proxy.close(), ...[...blue, ...green].map((b) => () => b.close()));
    await proxy.apply(route(port, 'blue', blue.map((b) => b.target)));
    return { proxy, blue, green, port };
  }
  const hits = (bs: Backend[]) => bs.reduce((n, b) => n + b.hits, 0);

  it('spreads requests round-robin over the active targets', async () => {
    const { port, blue } = await setup();
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await get(port)).body);
    expect(bodies.sort()).toEqual(['blue-0', 'blue-0', 'blue-1', 'blue-1']);
    expect(hits(blue)).toBe(4);
  });

  it('flips under concurrent kept-alive requests with zero failures, and nothing sent after the switch reaches blue', async () => {
    const { proxy, port, green } = await setup();
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    cleanup.push(async () => agent.destroy());
    let switched = false;
    const results = { ok: 0, failed: 0, blueAfterSwitch: 0, greenAfterSwitch: 0 };
    const client = async () => {
      for (let i = 0; i < 60; i++) {
        const sentAfterSwitch = switched;
        try {
          const r = await get(port, '/', agent);
          if (r.status === 200) results.ok++;
          else results.failed++;
          if (sentAfterSwitch && r.body.startsWith('blue')) results.blueAfterSwitch++;
          if (sentAfterSwitch && r.body.startsWith('green')) results.greenAfterSwitch++;
        } catch {
          results.failed++;
        }
      }
    };
    const clients = Array.from({ length: 20 }, client);
    // Flip once the clients are under way, then let them finish.
    while (results.ok < 200) await new Promise((r) => setImmediate(r));
    await proxy.apply(route(port, 'green', green.map((b) => b.target)));
    switched = true;
    await Promise.all(clients);
    expect(results.failed).toBe(0);
    expect(results.ok).toBe(20 * 60);
    expect(results.blueAfterSwitch).toBe(0);
    expect(results.greenAfterSwitch).toBeGreaterThan(0);
  });

  it('lets a slow request on the old color finish during the drain, while new requests go to green', async () => {
    const { proxy, port, blue, green } = await setup();
    const slow = get(port, '/slow');
    while (hits(blue) < 1) await new Promise((r) => setImmediate(r));
    await proxy.apply(route(port, 'green', green.map((b) => b.target)));
    let drained: number | undefined;
    const drain = proxy.drain(blue.map((b) => b.target.id), 30_000).then((n) => (drained = n));
    expect((await get(port)).body).toMatch(/^green/);
    expect((await proxy.counters('web')).blue?.inFlight).toBe(1);
    expect(drained).toBeUndefined();
    blue.forEach((b) => b.release());
    expect(await slow).toEqual({ status: 200, body: expect.stringMatching(/^blue/) });
    await drain;
    expect(drained).toBe(0);
  });

  it('gives up the drain at its timeout and says how many requests were left', async () => {
    const { proxy, port, blue, green } = await setup();
    const slow = get(port, '/slow').catch(() => undefined);
    while (hits(blue) < 1) await new Promise((r) => setImmediate(r));
    await proxy.apply(route(port, 'green', green.map((b) => b.target)));
    expect(await proxy.drain(blue.map((b) => b.target.id), 50)).toBe(1);
    blue.forEach((b) => b.release());
    await slow;
  });

  it('retries a request on a healthy target when another target refuses connections', async () => {
    const { proxy, port, green } = await setup();
    const deadPort = await freePort();
    const dead: RouteTarget = { id: 'dead', color: 'green', host: '127.0.0.1', port: deadPort };
    await proxy.apply(route(port, 'green', [dead, green[0]!.target]));
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await get(port));
    expect(answers.every((a) => a.status === 200 && a.body === 'green-0')).toBe(true);
    expect(green[0]!.hits).toBe(6);
  });

  it('answers 503 when the app has no target, and 502 when no target answers', async () => {
    const { proxy, port } = await setup();
    await proxy.apply(route(port, 'green', []));
    expect((await get(port)).status).toBe(503);
    await proxy.apply(route(port, 'green', [{ id: 'dead', color: 'green', host: '127.0.0.1', port: await freePort() }]));
    expect((await get(port)).status).toBe(502);
  });

  it('counts requests and 5xx per color', async () => {
    const { proxy, port } = await setup();
    await get(port);
    await get(port);
    expect(await proxy.counters('web')).toMatchObject({ blue: { requests: 2, errors5xx: 0, inFlight: 0, lastHit: expect.any(Number) } });
  });

  it('passes a connection upgrade (WebSocket-style) through to the active color', async () => {
    const { port } = await setup();
    const socket = connect(port, '127.0.0.1');
    cleanup.push(async () => socket.destroy());
    socket.write(`GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n`);
    let got = '';
    socket.on('data', (d) => (got += d));
    while (!got.includes('hello from')) await new Promise((r) => setTimeout(r, 5));
    socket.write('ping\n');
    while (!got.includes('ping')) await new Promise((r) => setTimeout(r, 5));
    expect(got).toMatch(/^HTTP\/1\.1 101/);
    expect(got).toMatch(/hello from blue-\d/);
  });

  it('refuses a listen port held by another process with PortInUse', async () => {
    const { port } = await setup();
    const other = new EmbeddedProxy(systemClock);
    await expect(other.apply({ ...route(port, 'blue', []), app: 'other' })).rejects.toMatchObject({ code: 'PortInUse' });
    await other.close();
  });
});
