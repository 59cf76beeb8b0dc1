// tls: acme on the real agent against Debian's pebble: the app is served over plain HTTP until its
// certificate is issued, then over HTTPS with HTTP redirecting, with the expiry in the status and the
// metrics. With a directory that does not answer, the app stays on plain HTTP and says why.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { get } from '../support/load.js';
import { startPebble, type Pebble } from '../support/pebble.js';
import { freePort } from '../support/ports.js';
import { testImages, until } from '../support/run.js';
import { makeCa, type TestCa } from '../support/tls.js';

describe('tls: acme on the real agent, against pebble', () => {
  const w = new E2eWorld();
  const dir = join(w.stateDir, 'pki');
  let ca: TestCa;
  let pebble: Pebble;
  let http: number;
  let https: number;
  const shop = () => appYaml({ name: 'shop', blueImage: testImages().ok, greenImage: testImages().ok, more: 'hosts: [shop.test]\ntls: acme\n' });
  const config = (directory: string, ports: { http: number; https: number }) => {
    const file = join(dir, `agent-${ports.http}.yaml`);
    // Two proxy workers: pebble's validation reaches whichever accepts it, so each must answer the challenge.
    writeFileSync(file, `acme:\n  directory: ${directory}\n  email: ops@shop.test\n  caFile: ${join(dir, 'ca.pem')}\npolicy:\n  hosts: [shop.test]\nproxyWorkers: 2\n`);
    return ['--config', file, '--http', `127.0.0.1:${ports.http}`, '--https', `127.0.0.1:${ports.https}`];
  };

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    ca = makeCa(dir);
    [http, https] = [await freePort(), await freePort()];
    pebble = await startPebble(dir, ca, { http });
    await w.serve({ 'apps/shop.yaml': shop() });
  });
  afterAll(async () => {
    await w.tearDown();
    await pebble?.close();
  });

  it('serves over HTTPS once pebble has issued the certificate, and reports when it expires', async () => {
    await w.start('300ms', {}, config(pebble.directory, { http, https }));
    const root = await pebble.root();
    const served = await until('shop to be served over HTTPS with the issued certificate', async () => {
      const r = await get({ port: https, host: 'shop.test', ca: root }).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    expect(served.body).toMatch(/from shop .*\(blue\)/);
    const redirect = await get({ port: http, host: 'shop.test' });
    expect([redirect.status, redirect.headers.location]).toEqual([308, `https://shop.test:${https}/`]);
    const cert = (await w.agent.status()).apps.shop!.certificate!;
    expect(cert.source).toBe('acme');
    expect(cert.notAfter).toBeGreaterThan(Date.now());
    expect(cert.error).toBeUndefined();
    const metrics = await (await fetch(`${w.agent.apiUrl}/metrics`)).text();
    expect(metrics).toContain(`switchyard_certificate_expiry_timestamp_seconds{app="shop",source="acme"} ${cert.notAfter! / 1000}`);
    await w.agent.stop();
  });

  it('keeps serving plain HTTP when the directory does not answer, and says why in the status and the journal', async () => {
    // An instance of its own (the first one's proxy still serves its ports and its stored certificate).
    const closed = `https://127.0.0.1:${await freePort()}/dir`;
    const ports = { http: await freePort(), https: await freePort() };
    const other = new E2eWorld();
    try {
      await other.serve({ 'apps/shop.yaml': shop() });
      await other.start('300ms', {}, config(closed, ports));
      const cert = await until('the failed order in the status', async () => (await other.agent.status()).apps.shop?.certificate?.error);
      expect(cert).toMatch(/apps\/shop\.yaml tls: app "shop": the ACME order for shop\.test failed: ACME directory https:\/\/127\.0\.0\.1:\d+\/dir does not answer: ECONNREFUSED/);
      expect(cert).toMatch(/served over plain HTTP meanwhile/);
      const plain = await until('shop over plain HTTP', async () => {
        const r = await get({ port: ports.http, host: 'shop.test' }).catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      });
      expect(plain.body).toMatch(/from shop/);
      const history = (await (await fetch(`${other.agent.apiUrl}/history?app=shop`)).json()) as { reason?: string }[];
      expect(history.filter((h) => h.reason === 'CertificateFailed')).toHaveLength(1);
    } finally {
      await other.tearDown();
    }
  });
});
