import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { EmbeddedProxy } from '../../src/adapters/dataplane/embedded-proxy.js';
import type { AppRoute, RouteTarget } from '../../src/core/route.js';
import { startBackend, type Backend } from '../support/backend.js';
import { freePort } from '../support/ports.js';
import { keptAliveThroughFlip } from '../support/load.js';
import { heldClock, openTunnel } from '../support/tunnel.js';
import { until } from '../support/run.js';

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

const route = (port: number, color: 'blue' | 'green', targets: RouteTarget[], more: Partial<AppRoute> = {}): AppRoute => ({
  app: 'web', listen: { host: '127.0.0.1', port }, color, targets, drainTimeoutMs: 5000, ...more,
});
const previewOn = { preview: { header: 'X-Switchyard-Color', cookie: 'switchyard-color' }, rules: [] };

function getWith(port: number, headers: Record<string, string>, path = '/'): Promise<{ status: number; body: string; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('embedded proxy', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  async function setup(random?: () => number) {
    const proxy = new EmbeddedProxy(systemClock, random ? { random } : {});
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
    const results = await keptAliveThroughFlip(port, () => proxy.apply(route(port, 'green', green.map((b) => b.target))));
    expect(results.failed).toBe(0);
    expect(results.ok).toBe(20 * 60);
    expect(results.blueAfterSwitch).toBe(0);
    expect(results.greenAfterSwitch).toBeGreaterThan(0);
  });

  it('lets a slow request on the old color finish during the drain, while new requests go to green', async () => {
    const { proxy, port, blue, green } = await setup();
    const slow = get(port, '/slow');
    await until('the slow request to reach blue', () => (hits(blue) >= 1 ? true : undefined), 60_000, 1);
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

  it('removes an app (prune) without waiting on a request that outlives its drain timeout', async () => {
    const { proxy, port, blue } = await setup();
    await proxy.apply(route(port, 'blue', blue.map((b) => b.target), { drainTimeoutMs: 100 }));
    const stuck = get(port, '/slow').then((r) => r.status, () => 'cut');
    await until('the slow request to reach blue', () => (hits(blue) >= 1 ? true : undefined), 60_000, 1);
    await proxy.remove('web');
    expect(await proxy.routes()).toEqual([]);
    expect(await stuck).toBe('cut');
    await expect(get(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('removes an app (prune) at once, and lets a slow request in flight finish; its drain waits for it', async () => {
    const { proxy, port, blue } = await setup();
    const slow = get(port, '/slow');
    await until('the slow request to reach blue', () => (hits(blue) >= 1 ? true : undefined), 60_000, 1);
    await proxy.remove('web');
    await expect(get(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    let drained: number | undefined;
    const drain = proxy.drain(blue.map((b) => b.target.id), 30_000).then((n) => (drained = n));
    await new Promise((r) => setTimeout(r, 50));
    expect(drained).toBeUndefined();
    blue.forEach((b) => b.release());
    expect(await slow).toEqual({ status: 200, body: expect.stringMatching(/^blue/) });
    await drain;
    expect(drained).toBe(0);
  });

  it('gives up the drain at its timeout and says how many requests were left', async () => {
    const { proxy, port, blue, green } = await setup();
    const slow = get(port, '/slow').catch(() => undefined);
    await until('the slow request to reach blue', () => (hits(blue) >= 1 ? true : undefined), 60_000, 1);
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
    const c = await proxy.counters('web');
    expect(c).toMatchObject({ blue: { requests: 2, errors5xx: 0, inFlight: 0, lastHit: expect.any(Number) } });
    expect(c.blue!.latency).toMatchObject({ count: 2, counts: expect.arrayContaining([2]) });
    expect(c.blue!.latency!.counts.at(-1)).toBe(2);
    // Every app's in one read: the same figures.
    expect(await proxy.traffic()).toEqual({ web: await proxy.counters('web') });
  });

  it('passes a connection upgrade (WebSocket-style) through to the active color', async () => {
    const { port } = await setup();
    const socket = connect(port, '127.0.0.1');
    cleanup.push(async () => socket.destroy());
    socket.write(`GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n`);
    let got = '';
    socket.on('data', (d) => (got += d));
    await until('the greeting through the tunnel', () => (got.includes('hello from') ? true : undefined), 60_000, 5);
    socket.write('ping\n');
    await until('the echo through the tunnel', () => (got.includes('ping') ? true : undefined), 60_000, 5);
    expect(got).toMatch(/^HTTP\/1\.1 101/);
    expect(got).toMatch(/hello from blue-\d/);
  });

  it('refuses a listen port held by another process with PortInUse', async () => {
    const { port } = await setup();
    const other = new EmbeddedProxy(systemClock);
    await expect(other.apply({ ...route(port, 'blue', []), app: 'other' })).rejects.toMatchObject({ code: 'PortInUse' });
    await other.close();
  });

  it('sends a request to the inactive color by preview header or cookie, and others to the active one', async () => {
    const { proxy, port, blue, green } = await setup();
    await proxy.apply(route(port, 'blue', [...blue, ...green].map((b) => b.target), { routing: previewOn }));
    expect((await getWith(port, { 'x-switchyard-color': 'green' })).body).toMatch(/^green/);
    expect((await getWith(port, { cookie: 'switchyard-color=green' })).body).toMatch(/^green/);
    expect((await getWith(port, {})).body).toMatch(/^blue/);
    expect((await getWith(port, { 'x-switchyard-color': 'blue' })).body).toMatch(/^blue/);
  });

  it('serves the inactive color alone on its preview port', async () => {
    const { proxy, port, blue, green } = await setup();
    const previewPort = await freePort();
    await proxy.apply(route(port, 'blue', [...blue, ...green].map((b) => b.target), { routing: { ...previewOn, preview: { ...previewOn.preview, port: previewPort } } }));
    for (let i = 0; i < 4; i++) expect((await getWith(previewPort, {})).body).toMatch(/^green/);
    await proxy.apply(route(port, 'green', [...blue, ...green].map((b) => b.target), { routing: { ...previewOn, preview: { ...previewOn.preview, port: previewPort } } }));
    expect((await getWith(previewPort, {})).body).toMatch(/^blue/);
    await proxy.apply(route(port, 'green', green.map((b) => b.target)));
    await expect(getWith(previewPort, {})).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('answers 503 when a preview asks for a color with no healthy target, instead of serving the other', async () => {
    const { proxy, port, blue } = await setup();
    await proxy.apply(route(port, 'blue', blue.map((b) => b.target), { routing: previewOn }));
    expect(await getWith(port, { 'x-switchyard-color': 'green' })).toMatchObject({ status: 503, body: 'no healthy green target\n' });
  });

  it('falls back to the active color for rule, canary and sticky-cookie traffic while the standby has no healthy target', async () => {
    const { proxy, port, blue } = await setup(() => 0);
    // The standby is not routed (unhealthy): only blue targets, with a rule, a 100% canary and preview on.
    await proxy.apply(route(port, 'blue', blue.map((b) => b.target), { routing: { ...previewOn, canary: { weight: 100, sticky: true }, rules: [{ header: 'X-Beta', value: '1', color: 'green' }] } }));
    expect(await getWith(port, { 'x-beta': '1' })).toMatchObject({ status: 200, body: expect.stringMatching(/^blue/) });
    expect(await getWith(port, {})).toMatchObject({ status: 200, body: expect.stringMatching(/^blue/) });
    expect(await getWith(port, { cookie: 'switchyard-canary=green' })).toMatchObject({ status: 200, body: expect.stringMatching(/^blue/) });
    // A preview asks for that color and nothing else.
    expect((await getWith(port, { 'x-switchyard-color': 'green' })).status).toBe(503);
  });

  it('sends requests that match a rule to its color', async () => {
    const { proxy, port, blue, green } = await setup();
    await proxy.apply(route(port, 'blue', [...blue, ...green].map((b) => b.target), { routing: { rules: [{ header: 'X-Beta', value: '1', color: 'green' }] } }));
    expect((await getWith(port, { 'x-beta': '1' })).body).toMatch(/^green/);
    expect((await getWith(port, { 'x-beta': '0' })).body).toMatch(/^blue/);
  });

  it('sends the canary weight of new clients to the standby, and keeps each client on its color by cookie', async () => {
    const draws = [0.1, 0.3, 0.5, 0.7];
    let i = 0;
    const { proxy, port, blue, green } = await setup(() => draws[i++ % draws.length]!);
    await proxy.apply(route(port, 'blue', [...blue, ...green].map((b) => b.target), { routing: { canary: { weight: 25, sticky: true }, rules: [] } }));
    const firsts = [];
    for (let n = 0; n < 40; n++) firsts.push(await getWith(port, {}));
    expect(firsts.filter((r) => r.body.startsWith('green'))).toHaveLength(10);
    const pinned = firsts.find((r) => r.body.startsWith('green'))!.setCookie[0]!.split(';')[0]!;
    for (let n = 0; n < 8; n++) expect((await getWith(port, { cookie: pinned })).body).toMatch(/^green/);
  });

  it('takes a target that keeps refusing connections out of rotation (passive health)', async () => {
    const { proxy, port, green } = await setup();
    let refused = 0;
    const dead = await startBackend('dead', 'green');
    const deadTarget = dead.target;
    await dead.close();
    // Count the connection attempts the dead target gets, through a tiny listener that refuses them.
    const { createServer } = await import('node:net');
    const counter = createServer((s) => {
      refused++;
      s.destroy();
    });
    await new Promise<void>((r) => counter.listen(deadTarget.port, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => counter.close(r)));
    await proxy.apply(route(port, 'green', [deadTarget, green[0]!.target]));
    const answers = [];
    for (let n = 0; n < 30; n++) answers.push(await getWith(port, {}));
    expect(answers.every((a) => a.status === 200 && a.body === 'green-0')).toBe(true);
    expect(refused).toBe(3);
    // Said in the counters, for the status and the metrics.
    expect((await proxy.counters('web')).green?.ejected).toEqual([deadTarget.id]);
  });

  /** Real time, except that sleeps wait until the test releases them: grace windows become countable. */
  it('keeps a WebSocket on the old color through the flip, then closes it when its grace window ends', async () => {
    const { held, clock } = heldClock();
    const proxy = new EmbeddedProxy(clock, { random: () => 0.5 });
    const blue = await startBackend('blue-0', 'blue');
    const green = await startBackend('green-0', 'green');
    const port = await freePort();
    cleanup.push(() => proxy.close(), () => blue.close(), () => green.close());
    await proxy.apply(route(port, 'blue', [blue.target]));
    const tunnels = [await openTunnel(port), await openTunnel(port)];
    expect(tunnels.every((t) => t.text().includes('hello from blue'))).toBe(true);

    await proxy.apply(route(port, 'green', [green.target], { drainTimeoutMs: 30_000 }));
    // One grace timer per tunnel, spread within the window (random 0.5 -> half of it).
    expect(held.map((h) => h.ms)).toEqual([15_000, 15_000]);
    tunnels[0]!.socket.write('still here\n');
    await until('the echo after the flip', () => (tunnels[0]!.text().includes('still here') ? true : undefined));
    expect((await getWith(port, {})).body).toBe('green-0');

    held.forEach((h) => h.release());
    await Promise.all(tunnels.map((t) => t.closed));
  });

  it('keeps a WebSocket the client opened on purpose to the standby (preview) while that color is routed', async () => {
    const { held, clock } = heldClock();
    const proxy = new EmbeddedProxy(clock);
    const blue = await startBackend('blue-0', 'blue');
    const green = await startBackend('green-0', 'green');
    const port = await freePort();
    cleanup.push(() => proxy.close(), () => blue.close(), () => green.close());
    await proxy.apply(route(port, 'blue', [blue.target, green.target], { routing: previewOn }));
    const tunnel = await openTunnel(port, 'x-switchyard-color: green\r\n');
    expect(tunnel.text()).toMatch(/hello from green/);
    await proxy.apply(route(port, 'blue', [blue.target, green.target], { routing: previewOn, drainTimeoutMs: 1000 }));
    expect(held).toEqual([]);
    // Once green leaves the route, even a preview tunnel gets its grace window.
    await proxy.apply(route(port, 'blue', [blue.target], { routing: previewOn, drainTimeoutMs: 1000 }));
    expect(held).toHaveLength(1);
    held[0]!.release();
    await tunnel.closed;
  });

  it('streams a response (SSE) chunk by chunk instead of buffering it', async () => {
    const { createServer } = await import('node:http');
    let finish: () => void = () => {};
    const sse = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      finish = () => res.end('data: last\n\n');
    });
    await new Promise<void>((r) => sse.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => { sse.closeAllConnections(); sse.close(r); }));
    const { proxy, port } = await setup();
    const addr = sse.address() as { port: number };
    await proxy.apply(route(port, 'blue', [{ id: 'sse', color: 'blue', host: '127.0.0.1', port: addr.port }]));
    const chunks: string[] = [];
    const done = new Promise<void>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/events', agent: false }, (res) => {
        res.on('data', (c) => chunks.push(String(c)));
        res.on('end', () => resolve());
      }).end();
    });
    await until('the first event before the response ends', () => (chunks.join('').includes('first') ? true : undefined));
    expect(chunks.join('')).not.toContain('last');
    finish();
    await done;
    expect(chunks.join('')).toBe('data: first\n\ndata: last\n\n');
  });

  it('forwards request bodies and large responses intact, and strips hop-by-hop headers', async () => {
    const { createServer } = await import('node:http');
    const seen: Record<string, string | string[] | undefined>[] = [];
    const echo = createServer((req, res) => {
      seen.push(req.headers);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const big = Buffer.alloc(200 * 1024, 'x');
        res.writeHead(200, { 'x-len': String(body.length), connection: 'keep-alive, x-private', 'x-private': 'secret' });
        res.end(req.url === '/big' ? big : body);
      });
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => { echo.closeAllConnections(); echo.close(r); }));
    const { proxy, port } = await setup();
    await proxy.apply(route(port, 'blue', [{ id: 'echo', color: 'blue', host: '127.0.0.1', port: (echo.address() as { port: number }).port }]));
    const payload = Buffer.alloc(300 * 1024, 'y');
    const posted = await new Promise<{ status: number; len: string; body: Buffer; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/echo', agent: false, headers: { 'content-type': 'application/octet-stream', 'content-length': payload.length, 'x-forwarded-for': '10.9.9.9' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, len: String(res.headers['x-len']), body: Buffer.concat(chunks), headers: res.headers }));
      });
      req.on('error', reject);
      req.end(payload);
    });
    expect(posted.status).toBe(200);
    expect(posted.len).toBe(String(payload.length));
    expect(posted.body.equals(payload)).toBe(true);
    expect(posted.headers['x-private']).toBeUndefined();
    // The client is not a trusted proxy: its X-Forwarded-For is replaced by what the proxy saw.
    expect(seen[0]!['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen[0]!['x-forwarded-proto']).toBe('http');
    const big = await get(port, '/big');
    expect(big.body.length).toBe(200 * 1024);
  });

  /** A backend that records the headers it got and answers each request with `answer`. */
  async function recorder(answer: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void = (_q, r) => r.end('ok')) {
    const { createServer } = await import('node:http');
    const seen: import('node:http').IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      answer(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
    const target: RouteTarget = { id: `rec-${seen.length}-${Math.random()}`, color: 'blue', host: '127.0.0.1', port: (server.address() as { port: number }).port };
    return { seen, server, target };
  }

  it('sets the forwarded headers from what it saw, believing a client\'s own only when it is a trusted proxy', async () => {
    const rec = await recorder();
    const port = await freePort();
    const spoofed = { 'x-forwarded-for': '10.9.9.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', forwarded: 'for=10.9.9.9;proto=https', host: 'shop.example:8080' };
    const untrusting = new EmbeddedProxy(systemClock);
    cleanup.push(() => untrusting.close());
    await untrusting.apply(route(port, 'blue', [rec.target]));
    await getWith(port, spoofed);
    expect(rec.seen[0]).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'shop.example:8080', forwarded: 'for=127.0.0.1;proto=http;host="shop.example:8080"' });
    await untrusting.close();

    const trusting = new EmbeddedProxy(systemClock, { trustedProxies: ['127.0.0.1'] });
    cleanup.push(() => trusting.close());
    await trusting.apply(route(port, 'blue', [rec.target]));
    await getWith(port, spoofed);
    expect(rec.seen[1]).toMatchObject({ 'x-forwarded-for': '10.9.9.9, 127.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', forwarded: 'for=10.9.9.9;proto=https, for=127.0.0.1;proto=https;host="evil.example"' });
  });

  it('does not let a Connection: list strip Host or other end-to-end headers', async () => {
    const rec = await recorder();
    const { proxy, port } = await setup();
    await proxy.apply(route(port, 'blue', [rec.target]));
    await getWith(port, { connection: 'keep-alive, host, authorization, cookie, x-hop', authorization: 'Bearer t', cookie: 'a=1', 'x-hop': 'gone', host: 'shop.example' });
    expect(rec.seen[0]).toMatchObject({ host: 'shop.example', authorization: 'Bearer t', cookie: 'a=1' });
    expect(rec.seen[0]!['x-hop']).toBeUndefined();
  });

  it('opens a tunnel only on a 101: any other answer to an Upgrade is an ordinary response, and the connection closes', async () => {
    // A raw target that answers every request it reads with 200 and keeps the connection open, as an
    // app that ignores Upgrade does: through a raw tunnel, a request smuggled behind the first would reach it.
    const { createServer } = await import('node:net');
    const requestLines: string[] = [];
    const raw = createServer((s) => {
      let buffered = '';
      s.on('data', (d) => {
        buffered += d;
        let end: number;
        while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
          requestLines.push(buffered.slice(0, buffered.indexOf('\r\n')));
          buffered = buffered.slice(end + 4);
          s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nplain');
        }
      });
      s.on('error', () => s.destroy());
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => raw.close(r)));
    const { proxy, port } = await setup();
    await proxy.apply(route(port, 'blue', [{ id: 'raw', color: 'blue', host: '127.0.0.1', port: (raw.address() as { port: number }).port }]));
    const socket = connect(port, '127.0.0.1');
    cleanup.push(async () => socket.destroy());
    let got = '';
    socket.on('data', (d) => (got += d));
    const closed = new Promise<boolean>((r) => socket.on('close', () => r(true)));
    socket.write('GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\nGET /sneaky HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(await Promise.race([closed, new Promise((r) => setTimeout(() => r(false), 3000))])).toBe(true);
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nplain$/);
    expect(requestLines).toEqual(['GET /ws HTTP/1.1']);
  });

  it('counts a tunnel per color, holds the drain of its target until it closes, and closes it when idle', async () => {
    const blue = await startBackend('blue-t', 'blue');
    const port = await freePort();
    const proxy = new EmbeddedProxy(systemClock, { tunnelIdleMs: 300 });
    cleanup.push(() => proxy.close(), () => blue.close());
    await proxy.apply(route(port, 'blue', [blue.target]));
    const tunnel = await openTunnel(port);
    expect((await proxy.counters('web')).blue?.tunnels).toBe(1);
    // The drain of its target waits for it (at most its timeout): here, until the idle timeout closes it.
    expect(await proxy.drain([blue.target.id], 10_000)).toBe(0);
    await tunnel.closed;
    expect((await proxy.counters('web')).blue?.tunnels).toBe(0);
  });

  it('does not eject a healthy target for clients that leave before it answers (passive health counts the target\'s faults only)', async () => {
    const slow = await recorder((_req, res) => setTimeout(() => res.end('late'), 200));
    const { proxy, port } = await setup();
    await proxy.apply(route(port, 'blue', [slow.target]));
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent: false });
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => (req.destroy(), resolve()), 30);
      });
    }
    await until('the target to see all five', () => (slow.seen.length === 5 ? true : undefined));
    expect((await proxy.counters('web')).blue?.ejected).toBeUndefined();
    expect((await get(port)).body).toBe('late');
  });
});
