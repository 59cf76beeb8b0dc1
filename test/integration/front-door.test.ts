// The shared entrypoints of both data planes (the embedded proxy, and Debian's HAProxy), held to the same
// tests with real TLS: a CA made in the test with openssl, certificates chosen by SNI, routing by Host and
// path prefix, redirects, renewal without a dropped request, flips of one app under load on a port it
// shares with another, maintenance pages and request limits.
import { request } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { EmbeddedProxy } from '../../src/adapters/dataplane/embedded-proxy.js';
import { HaproxyRouter, haproxyPaths } from '../../src/adapters/haproxy/haproxy-router.js';
import type { Address, AppRoute, HostRoute, Router, RouteTarget } from '../../src/core/route.js';
import { startBackend, type Backend } from '../support/backend.js';
import { freePort } from '../support/ports.js';
import { get, keptAliveThroughFlip, keepAliveAgent, startLoad } from '../support/load.js';
import { makeCa, type TestCa } from '../support/tls.js';
import { openTunnel } from '../support/tunnel.js';
import { instanceName, processGone, stateDir as newStateDir } from '../support/run.js';

interface Plane {
  router: Router;
  close(): Promise<unknown>;
}

const PLANES: [string, () => Promise<Plane>][] = [
  ['embedded proxy', async () => {
    const router = new EmbeddedProxy(systemClock);
    return { router, close: () => router.close() };
  }],
  ['haproxy', async () => {
    const paths = haproxyPaths(newStateDir(), instanceName());
    const router = new HaproxyRouter(paths, systemClock);
    await router.start();
    return {
      router,
      close: async () => {
        const pid = Number(readFileSync(paths.pid, 'utf8'));
        await router.shutdown();
        await processGone('HAProxy to exit', pid);
      },
    };
  }],
];

describe.each(PLANES)('%s: shared HTTP and HTTPS entrypoints', (plane, startPlane) => {
  const embedded = plane === 'embedded proxy';
  let dir: string;
  let ca: TestCa;
  let shopPair: { certFile: string; keyFile: string };
  let apiPair: { certFile: string; keyFile: string };
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-test-tls-'));
    ca = makeCa(dir);
    shopPair = ca.issue(['shop.test', 'www.shop.test'], 'shop');
    apiPair = ca.issue(['*.api.test'], 'api');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup() {
    const { router: proxy, close } = await startPlane();
    const backends: Record<string, Backend> = {};
    for (const name of ['shop-blue', 'shop-green', 'shop-green2', 'api-blue', 'plain-blue', 'new-blue']) backends[name] = await startBackend(name, name.includes('green') ? 'green' : 'blue');
    cleanup.push(close, ...Object.values(backends).map((b) => () => b.close()));
    const http: Address = { host: '127.0.0.1', port: await freePort() };
    const https: Address = { host: '127.0.0.1', port: await freePort() };
    const hostRoute = (names: string[], tls?: { certFile: string; keyFile: string; digest: string }, more: Partial<HostRoute> = {}): HostRoute => ({
      names, pathPrefix: '/', stripPrefix: false, http, ...(tls ? { https, tls } : {}), ...more,
    });
    const route = (app: string, targets: RouteTarget[], hosts: HostRoute, more: Partial<AppRoute> = {}): AppRoute => ({ app, color: targets[0]!.color, targets, drainTimeoutMs: 2000, hosts, ...more });
    const shop = route('shop', [backends['shop-blue']!.target], hostRoute(['shop.test', 'www.shop.test'], { ...shopPair, digest: 's1' }));
    const api = route('api', [backends['api-blue']!.target], hostRoute(['*.api.test'], { ...apiPair, digest: 'a1' }, { pathPrefix: '/v1', stripPrefix: true }));
    const plain = route('plain', [backends['plain-blue']!.target], hostRoute(['plain.test']));
    for (const r of [shop, api, plain]) await proxy.apply(r);
    const tls = (host: string) => ({ port: https.port, host, ca: ca.ca });
    return { proxy, backends, http, https, shop, api, plain, hostRoute, route, tls };
  }

  /** The certificate the server presents for `servername` (its serial), or the handshake's error. */
  function presented(port: number, servername: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = tlsConnect({ port, host: '127.0.0.1', servername, ca: ca.ca }, () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      });
      socket.on('error', (e) => resolve(`error: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
  }

  function raw(port: number, host: string, path: string, method = 'GET', body?: string, headers: Record<string, string | number> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, agent: false, headers: { host, ...headers } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('routes by SNI and Host over TLS, trusting only the test CA, and by the longest prefix, stripped where asked', async () => {
    const { tls } = await setup();
    expect((await get(tls('shop.test'))).body).toBe('shop-blue');
    expect((await get(tls('www.shop.test'))).body).toBe('shop-blue');
    const api = await get(tls('eu.api.test'), undefined, '/v1/orders?x=1');
    expect([api.body, api.headers['x-path']]).toEqual(['api-blue', '/orders?x=1']);
    expect((await get(tls('eu.api.test'), undefined, '/v1')).headers['x-path']).toBe('/');
    // Outside the prefix, and a name below the wildcard's one label: nothing, and nothing internal said.
    expect(await get(tls('eu.api.test'), undefined, '/v2')).toMatchObject({ status: 404, body: 'not found\n' });
  });

  it('answers an unknown host with a bare 404 and fails a handshake for a name it has no certificate for', async () => {
    const { http, https } = await setup();
    const r = await raw(http.port, 'nobody.test', '/');
    expect(r).toMatchObject({ status: 404, body: 'not found\n' });
    expect(Object.keys(r.headers).filter((h) => !['connection', 'content-length', 'content-type', 'date', 'keep-alive'].includes(h))).toEqual([]);
    expect(await presented(https.port, 'nobody.test')).toMatch(/^error: /);
    // plain.test is served over plain HTTP only.
    expect(await presented(https.port, 'plain.test')).toMatch(/^error: /);
    expect((await raw(http.port, 'plain.test', '/')).body).toBe('plain-blue');
  });

  it('redirects plain HTTP to HTTPS with a 308 for TLS apps, except ACME challenges', async () => {
    const { http, https } = await setup();
    const r = await raw(http.port, 'Shop.test:80', '/cart?id=7', 'POST', 'x');
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe(`https://shop.test:${https.port}/cart?id=7`);
    expect(await raw(http.port, 'shop.test', '/.well-known/acme-challenge/token')).toMatchObject({ status: 200, body: 'shop-blue' });
  });

  it('keeps WebSockets working over TLS on the shared port, with the prefix stripped', async () => {
    const { https } = await setup();
    const tunnel = await openTunnel(https.port, '', { host: 'eu.api.test', ca: ca.ca, path: '/v1/ws' });
    expect(tunnel.text()).toMatch(/^HTTP\/1\.1 101[\s\S]*hello from api-blue/);
    tunnel.socket.destroy();
  });

  it('serves a renewed pair to new connections at once, and drops no kept-alive request; a bad pair changes nothing', async () => {
    const { proxy, shop, https, tls } = await setup();
    const before = await presented(https.port, 'shop.test');
    const agent = keepAliveAgent(tls('shop.test'), 1);
    try {
      expect((await get(tls('shop.test'), agent)).status).toBe(200);
      const renewed = ca.issue(['shop.test', 'www.shop.test'], 'shop-renewed');
      const workers = proxy instanceof HaproxyRouter ? await proxy.workers() : [];
      await proxy.apply({ ...shop, hosts: { ...shop.hosts!, tls: { ...renewed, digest: 's2' } } });
      // HAProxy takes it through its runtime API (set/commit ssl cert): the same workers serve on.
      if (proxy instanceof HaproxyRouter) expect(await proxy.workers()).toEqual(workers);
      // The connection opened before the renewal goes on, on its old certificate.
      expect((await get(tls('shop.test'), agent)).status).toBe(200);
      const after = await presented(https.port, 'shop.test');
      expect(after).not.toBe(before);
      expect(after).not.toMatch(/^error/);
      // A pair whose key does not match: refused, and the renewed pair keeps serving.
      const other = ca.issue(['shop.test'], 'other');
      await expect(proxy.apply({ ...shop, hosts: { ...shop.hosts!, tls: { certFile: renewed.certFile, keyFile: other.keyFile, digest: 's3' } } })).rejects.toMatchObject({ code: 'RouteFailed' });
      expect(await presented(https.port, 'shop.test')).toBe(after);
      expect((await proxy.routes()).find((r) => r.app === 'shop')!.hosts!.tls!.digest).toBe('s2');
    } finally {
      agent.destroy();
    }
  });

  it('flips and rolls one app under load on the HTTPS port it shares, and adds a third, failing no request of either', async () => {
    const { proxy, backends, shop, tls, hostRoute, route } = await setup();
    const apiLoad = startLoad(tls('eu.api.test'), 4, 200_000, '/v1/orders');
    try {
      const flip = await keptAliveThroughFlip(tls('shop.test'), () => proxy.apply({ ...shop, color: 'green', targets: [backends['shop-green']!.target] }));
      expect(flip).toMatchObject({ failed: 0, blueAfterSwitch: 0 });
      expect(flip.greenAfterSwitch).toBeGreaterThan(0);
      // Rolling within the color: its target replaced by another, under load.
      const roll = await keptAliveThroughFlip(tls('shop.test'), () => proxy.apply({ ...shop, color: 'green', targets: [backends['shop-green2']!.target] }));
      expect(roll).toMatchObject({ failed: 0, blueAfterSwitch: 0 });
      expect((await get(tls('shop.test'))).body).toBe('shop-green2');
      // A third app on the same port (HAProxy reloads for it) while both are under load.
      const shopLoad = startLoad(tls('shop.test'), 4);
      const pair = ca.issue(['new.test'], 'new');
      await proxy.apply(route('new', [backends['new-blue']!.target], hostRoute(['new.test'], { ...pair, digest: 'n1' })));
      expect((await get(tls('new.test'))).body).toBe('new-blue');
      const shopCounts = await shopLoad.stop();
      expect(shopCounts.errors).toEqual([]);
      expect(shopCounts.ok).toBeGreaterThan(0);
    } finally {
      const api = await apiLoad.stop();
      expect(api.failed).toBe(0);
      expect(api.ok).toBeGreaterThan(0);
    }
  });

  it('answers ordinary requests with the maintenance page while a preview still reaches its color, and drops nothing going in or out', async () => {
    const { proxy, backends, shop, tls } = await setup();
    const both = { ...shop, targets: [backends['shop-blue']!.target, backends['shop-green']!.target], routing: { preview: { header: 'X-Switchyard-Color', cookie: 'switchyard-color' }, rules: [] } };
    await proxy.apply(both);
    const load = startLoad(tls('shop.test'), 4);
    await proxy.apply({ ...both, maintenance: { message: 'Back at <14:00>', retryAfterS: 1800 } });
    const page = await get(tls('shop.test'));
    expect(page.status).toBe(503);
    expect(page.headers['retry-after']).toBe('1800');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('Back at &#60;14:00&#62;');
    expect((await get(tls('shop.test'), undefined, '/', { 'x-switchyard-color': 'green' })).body).toBe('shop-green');
    await proxy.apply(both);
    const counts = await load.stop();
    // Every request was answered whole: by the app, or by the page (never a reset or a 502).
    expect(counts.errors.filter((e) => !e.startsWith('HTTP 503'))).toEqual([]);
    expect((await get(tls('shop.test'))).status).toBe(200);
  });

  it('refuses a body over the limit with 413 and a slow answer with 504, counted per color', async () => {
    const { proxy, plain, http, backends } = await setup();
    await proxy.apply({ ...plain, limits: { maxRequestBodyBytes: 1024, requestTimeoutMs: 300 } });
    expect((await raw(http.port, 'plain.test', '/', 'POST', 'x'.repeat(2048))).status).toBe(413);
    expect((await raw(http.port, 'plain.test', '/', 'POST', 'x'.repeat(100))).body).toBe('plain-blue');
    const slow = await raw(http.port, 'plain.test', '/slow');
    expect(slow.status).toBe(504);
    backends['plain-blue']!.release();
    expect(await proxy.counters('plain')).toMatchObject({ blue: { errors5xx: 1 } });
    // Only the embedded proxy sees a streamed body through, counts these per color and words its 504.
    if (!embedded) return;
    expect(slow.body).toContain('took too long');
    expect((await raw(http.port, 'plain.test', '/', 'POST', 'x'.repeat(2048), { 'transfer-encoding': 'chunked' })).status).toBe(413);
    expect(await proxy.counters('plain')).toMatchObject({ blue: { tooLarge: 2, timedOut: 1, errors5xx: 1 } });
  });

  it('opens a shared port with the first route that needs it and closes it with the last', async () => {
    const { proxy, http } = await setup();
    for (const app of ['shop', 'api']) await proxy.remove(app);
    expect((await raw(http.port, 'plain.test', '/')).body).toBe('plain-blue');
    await proxy.remove('plain');
    await expect(raw(http.port, 'plain.test', '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
