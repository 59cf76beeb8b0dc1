// The front door on the real agent, with each data plane (the embedded proxy, HAProxy): two apps by host
// name on one HTTPS port (--https, a CA made in the test, certificate files under the policy's
// certPaths), on real containers. Flipping one app, adding a third and renewing a certificate each fail
// no request of either app; a bad pair is refused with its location while the old one keeps serving.
// The embedded proxy runs two worker processes here (proxyWorkers: 2): every one of those holds for both.
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyCondition } from '../../src/core/status.js';
import { systemClock } from '../../src/core/clock.js';
import { HaproxyRouter, haproxyPaths } from '../../src/adapters/haproxy/haproxy-router.js';
import { controlAnswers } from '../../src/adapters/dataplane/proxy-control.js';
import { proxyFiles } from '../../src/adapters/dataplane/proxy-files.js';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { get, keptAliveThroughFlip, startLoad } from '../support/load.js';
import { freePort } from '../support/ports.js';
import { testImages, until } from '../support/run.js';
import { makeCa, type TestCa } from '../support/tls.js';

describe.each(['embedded', 'haproxy'])('the front door on the real agent (--router %s)', (router) => {
  const w = new E2eWorld();
  const certs = join(w.stateDir, 'certs');
  let ca: TestCa;
  let http: number;
  let https: number;
  const tls = (host: string) => ({ port: https, host, ca: ca.ca });
  const pair = (name: string) => `tls: {certFile: ${certs}/${name}.pem, keyFile: ${certs}/${name}.key}\n`;
  const app = (name: string, active: 'blue' | 'green' = 'blue') =>
    appYaml({ name, active, blueImage: testImages().ok, greenImage: testImages().ok, more: `hosts: [${name}.test]\n${pair(name)}` });
  const files = (shopActive: 'blue' | 'green', more: Record<string, string> = {}) => ({ 'apps/shop.yaml': app('shop', shopActive), 'apps/api.yaml': app('api'), ...more });

  /** The serial of the certificate served for `servername`, or the handshake's error. */
  const presented = (servername: string) =>
    new Promise<string>((resolve) => {
      const socket = tlsConnect({ port: https, host: '127.0.0.1', servername, ca: ca.ca }, () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      });
      socket.on('error', (e) => resolve(`error: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
  /** A new pair for `name`, moved into place over the old files (as a renewal tool does). */
  const renew = (name: string) => {
    const fresh = ca.issue([`${name}.test`], `${name}-next`);
    renameSync(fresh.keyFile, join(certs, `${name}.key`));
    renameSync(fresh.certFile, join(certs, `${name}.pem`));
  };

  beforeAll(async () => {
    mkdirSync(certs, { recursive: true });
    ca = makeCa(certs);
    for (const name of ['shop', 'api', 'new']) ca.issue([`${name}.test`], name);
    [http, https] = [await freePort(), await freePort()];
    const config = join(w.stateDir, 'agent.yaml');
    writeFileSync(config, `policy:\n  hosts: ["*.test"]\n  certPaths: [${certs}]\n${router === 'embedded' ? 'proxyWorkers: 2\n' : ''}`);
    await w.serve(files('blue'));
    await w.start('300ms', {}, ['--config', config, '--router', router, '--http', `127.0.0.1:${http}`, '--https', `127.0.0.1:${https}`]);
  });
  afterAll(async () => {
    await w.tearDown();
    if (router === 'haproxy') await new HaproxyRouter(haproxyPaths(w.stateDir, w.instance), systemClock).shutdown().catch(() => undefined);
  });

  it('serves both apps by SNI and Host on one HTTPS port, redirects plain HTTP, and answers an unknown host 404', async () => {
    await w.settle(files('blue'), ['shop', 'api']);
    expect((await get(tls('shop.test'))).body).toMatch(/from shop .*\(blue\)/);
    expect((await get(tls('api.test'))).body).toMatch(/from api .*\(blue\)/);
    const redirect = await get({ port: http, host: 'shop.test' }, undefined, '/x');
    expect([redirect.status, redirect.headers.location]).toEqual([308, `https://shop.test:${https}/x`]);
    expect(await get({ port: http, host: 'nobody.test' })).toMatchObject({ status: 404, body: 'not found\n' });
    if (router === 'embedded') expect((await controlAnswers(proxyFiles(w.stateDir, w.instance).socket))?.workers).toHaveLength(2);
  });

  // With HAProxy, the same flip and new app under load run against the real driver in
  // test/integration/front-door.test.ts; here once, on the embedded proxy, to keep the suite's time.
  const embeddedOnly = router === 'embedded' ? it : undefined;
  embeddedOnly?.('flips one app and adds a third under load, failing no request of either app on the shared port', async () => {
    await w.settle(files('blue'), ['shop', 'api']);
    const apiLoad = startLoad(tls('api.test'), 4);
    try {
      const flip = await keptAliveThroughFlip(tls('shop.test'), () => w.settle(files('green', { 'apps/new.yaml': app('new') }), ['shop', 'new'], 'shop: flip to green; add new'));
      expect(flip).toMatchObject({ failed: 0, blueAfterSwitch: 0 });
      expect(flip.greenAfterSwitch).toBeGreaterThan(0);
      expect((await get(tls('new.test'))).body).toMatch(/from new .*\(blue\)/);
    } finally {
      const counts = await apiLoad.stop();
      expect(counts.errors).toEqual([]);
      expect(counts.ok).toBeGreaterThan(0);
    }
  });

  it('serves a renewed certificate without a restart or a failed request; refuses a bad pair with its location and keeps the old one', async () => {
    await w.settle(files('blue'), ['shop', 'api']);
    const before = await presented('shop.test');
    expect(before).not.toMatch(/^error/);
    const load = startLoad(tls('shop.test'), 4);
    try {
      renew('shop');
      await until('the renewed certificate to be served', async () => {
        const now = await presented('shop.test');
        return now !== before && !now.startsWith('error') ? true : undefined;
      });
    } finally {
      const counts = await load.stop();
      expect(counts.errors).toEqual([]);
      expect(counts.ok).toBeGreaterThan(0);
    }
    const renewed = await presented('shop.test');
    // A key that is not the certificate's: the app is Stalled with the file and line, the pair served stays.
    copyFileSync(join(certs, 'api.key'), join(certs, 'shop.key'));
    const stalled = await until('shop to be Stalled on its certificate', async () => {
      const ready = readyCondition((await w.agent.status()).apps.shop!);
      return ready?.reason === 'CertificateFailed' ? ready : undefined;
    });
    expect(stalled.message).toMatch(/apps\/shop\.yaml:\d+:\d+ tls\.certFile: app "shop": cannot use .* the key does not match the certificate/);
    expect(await presented('shop.test')).toBe(renewed);
    expect((await get(tls('shop.test'))).status).toBe(200);
    renew('shop');
    await until('shop to be Ready again', async () => (readyCondition((await w.agent.status()).apps.shop!)?.status === 'True' ? true : undefined));
  });
});
