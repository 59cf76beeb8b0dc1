// ACME against a real server: Debian's pebble on loopback checks HTTP-01 challenges that the embedded
// proxy answers on its shared plain-HTTP port, and the issued pair is stored owner-only and served.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { EmbeddedProxy } from '../../src/adapters/dataplane/embedded-proxy.js';
import { AcmeIssuer } from '../../src/adapters/acme/acme-issuer.js';
import { acmeOrder, newAccountKey } from '../../src/adapters/acme/acme-order.js';
import type { Address, AppRoute } from '../../src/core/route.js';
import { startBackend, type Backend } from '../support/backend.js';
import { freePort } from '../support/ports.js';
import { get } from '../support/load.js';
import { startPebble, type Pebble } from '../support/pebble.js';
import { makeCa, type TestCa } from '../support/tls.js';
import { connect as tlsConnect } from 'node:tls';

/** A TLS handshake offering these ALPN protocols: 'ok' or the error's code (certificates not checked). */
function handshake(port: number, servername: string, ALPNProtocols: string[]): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ port, host: '127.0.0.1', servername, ALPNProtocols, rejectUnauthorized: false }, () => (s.destroy(), resolve('ok')));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`error: ${e.code ?? e.message}`));
  });
}

describe('ACME with pebble', () => {
  let dir: string;
  let ca: TestCa;
  let pebble: Pebble;
  let proxy: EmbeddedProxy;
  let backend: Backend;
  let http: Address;
  let https: Address;
  let route: AppRoute;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-test-acme-'));
    ca = makeCa(dir);
    http = { host: '127.0.0.1', port: await freePort() };
    https = { host: '127.0.0.1', port: await freePort() };
    pebble = await startPebble(dir, ca, { http: http.port, https: https.port });
    proxy = new EmbeddedProxy(systemClock);
    backend = await startBackend('shop-blue', 'blue');
    // Served over plain HTTP until it has a certificate: that is where the challenge is answered too.
    route = { app: 'shop', color: 'blue', targets: [backend.target], drainTimeoutMs: 1000, hosts: { names: ['shop.test', 'www.shop.test'], pathPrefix: '/', stripPrefix: false, http } };
    await proxy.apply(route);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await backend?.close();
    await pebble?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('orders a certificate over HTTP-01, stores it owner-only, and the proxy serves it over TLS', async () => {
    let issued = 0;
    const issuer = new AcmeIssuer({
      dir: join(dir, 'acme'),
      clock: systemClock,
      order: acmeOrder({ directory: pebble.directory, email: 'ops@shop.test', accountKey: await newAccountKey(), ca: ca.ca }, proxy),
      onIssued: () => issued++,
    });
    const names = ['www.shop.test', 'shop.test'];
    expect(issuer.current(names)).toBeUndefined();
    issuer.want(names);
    issuer.want(names); // one order in flight, not two
    await issuer.idle();
    expect(issuer.failure(names)).toBeUndefined();
    expect(issued).toBe(1);
    const pair = issuer.current(['shop.test', 'www.shop.test'])!;
    expect(pair.notAfter).toBeGreaterThan(Date.now());
    for (const f of [pair.certFile, pair.keyFile]) expect(statSync(f).mode & 0o777).toBe(0o600);

    await proxy.apply({ ...route, hosts: { ...route.hosts!, https, tls: { certFile: pair.certFile, keyFile: pair.keyFile, digest: pair.digest } } });
    const root = await pebble.root();
    // Trusting pebble's root only: the chain the proxy serves is the one pebble issued for these names.
    expect((await get({ port: https.port, host: 'www.shop.test', ca: root })).body).toBe('shop-blue');
    // A second want while the pair has more than 30 days left orders nothing.
    issuer.want(names);
    await issuer.idle();
    expect(issued).toBe(1);
  });

  it('orders over TLS-ALPN-01 on the TLS port alone, while ordinary clients of the name are not shown the challenge', async () => {
    // An app with no plain-HTTP port: its TLS port is open while it waits for its certificate.
    const alpn: AppRoute = { app: 'api', color: 'blue', targets: [{ ...backend.target, id: 'api-b' }], drainTimeoutMs: 1000, hosts: { names: ['api.test'], pathPrefix: '/', stripPrefix: false, https } };
    await proxy.apply(alpn);
    let answered = 0;
    const responder = Object.assign(Object.create(proxy) as EmbeddedProxy, {
      answerTlsAlpn: async (name: string, cert: string, key: string) => {
        answered++;
        await proxy.answerTlsAlpn(name, cert, key);
        // Meanwhile, an ordinary client of the name (offering http/1.1) gets no certificate at all.
        expect(await handshake(https.port, 'api.test', ['http/1.1'])).toMatch(/^error/);
      },
    });
    const issuer = new AcmeIssuer({ dir: join(dir, 'acme-alpn'), clock: systemClock, order: acmeOrder({ directory: pebble.directory, email: 'ops@api.test', accountKey: await newAccountKey(), ca: ca.ca }, responder, ['tls-alpn-01']), onIssued: () => {} });
    issuer.want(['api.test']);
    await issuer.idle();
    expect(issuer.failure(['api.test'])).toBeUndefined();
    expect(answered).toBe(1);
    const pair = issuer.current(['api.test'])!;
    await proxy.apply({ ...alpn, hosts: { ...alpn.hosts!, tls: { certFile: pair.certFile, keyFile: pair.keyFile, digest: pair.digest } } });
    expect((await get({ port: https.port, host: 'api.test', ca: await pebble.root() })).body).toBe('shop-blue');
  });

  it('reports a directory that does not answer, naming it, and waits out a backoff before the next try', async () => {
    const closed = `https://127.0.0.1:${await freePort()}/dir`;
    const issuer = new AcmeIssuer({ dir: join(dir, 'acme-bad'), clock: systemClock, order: acmeOrder({ directory: closed, email: 'ops@shop.test', accountKey: await newAccountKey(), ca: ca.ca }, proxy), onIssued: () => {} });
    issuer.want(['shop.test']);
    await issuer.idle();
    const failure = issuer.failure(['shop.test'])!;
    expect(failure.message).toBe(`ACME directory ${closed} does not answer: ECONNREFUSED`);
    expect(failure.retryAt - failure.at).toBe(5 * 60_000);
    issuer.want(['shop.test']);
    await issuer.idle();
    expect(issuer.failure(['shop.test'])!.at).toBe(failure.at);
  });
});
