// When the ACME issuer orders, renews and backs off, and how a pass uses what it has stored: with a fake
// order (a fixed self-signed pair) and a fake clock. The real order against pebble is in
// test/integration/acme.test.ts.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AcmeIssuer, FIRST_BACKOFF_MS, MAX_BACKOFF_MS, StoredCertificates } from '../../src/adapters/acme/acme-issuer.js';
import { RENEW_BEFORE_MS } from '../../src/core/certificates.js';
import { resolveCertificates } from '../../src/desired/certificates.js';
import { loadDesired } from '../../src/desired/load.js';
import { FakeClock } from '../support/fakes.js';
import { Memory } from '../../src/reconciler/memory.js';
import { orderCertificates } from '../../src/reconciler/steps/certificates.js';

const certPem = readFileSync('test/fixtures/tls/shop.pem', 'utf8');
const keyPem = readFileSync('test/fixtures/tls/shop.key', 'utf8');
const NOT_AFTER = Date.parse(new X509Certificate(certPem).validTo);
const DAY = 24 * 3_600_000;

describe('the ACME issuer', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function setup(outcomes: ('ok' | 'fail')[]) {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-unit-acme-'));
    dirs.push(dir);
    const clock = new FakeClock(NOT_AFTER - 60 * DAY);
    const orders: string[][] = [];
    const issued: string[][] = [];
    const issuer = new AcmeIssuer({
      dir,
      clock,
      order: async (names) => {
        orders.push([...names]);
        if (outcomes.shift() === 'fail') throw new Error('urn:ietf:params:acme:error:connection: refused');
        return { certPem, keyPem };
      },
      onIssued: (names) => issued.push([...names]),
    });
    return { dir, clock, issuer, orders, issued };
  }

  it('orders once for a set of names in any order, and renews only when 30 days or less are left', async () => {
    const { issuer, orders, clock, issued } = setup(['ok', 'ok']);
    issuer.want(['www.shop.test', 'shop.test']);
    issuer.want(['shop.test', 'www.shop.test']);
    await issuer.idle();
    expect(orders).toEqual([['shop.test', 'www.shop.test']]);
    expect(issued).toHaveLength(1);
    expect(issuer.current(['shop.test', 'www.shop.test'])).toMatchObject({ notAfter: NOT_AFTER });
    clock.time = NOT_AFTER - RENEW_BEFORE_MS - 1;
    issuer.want(['shop.test', 'www.shop.test']);
    await issuer.idle();
    expect(orders).toHaveLength(1);
    clock.time = NOT_AFTER - RENEW_BEFORE_MS + 1;
    issuer.want(['shop.test', 'www.shop.test']);
    await issuer.idle();
    expect(orders).toHaveLength(2);
  });

  it('keeps what it stored across a restart: a new issuer on the same folder orders nothing', async () => {
    const { issuer, dir, clock } = setup(['ok']);
    issuer.want(['shop.test']);
    await issuer.idle();
    let ordered = 0;
    const again = new AcmeIssuer({ dir, clock, order: async () => (ordered++, { certPem, keyPem }), onIssued: () => {} });
    again.want(['shop.test']);
    await again.idle();
    expect([ordered, again.current(['shop.test'])?.digest]).toEqual([0, issuer.current(['shop.test'])!.digest]);
    // What `switchyard plan` reads: the same pair, and it never orders.
    const stored = new StoredCertificates(dir, clock);
    expect(stored.current(['shop.test'])?.digest).toBe(issuer.current(['shop.test'])!.digest);
    expect(stored.current(['other.test'])).toBeUndefined();
  });

  it('backs off after a failure, doubling up to the limit, and forgets the failure on a success', async () => {
    const { issuer, orders, clock } = setup(['fail', 'fail', 'ok']);
    issuer.want(['shop.test']);
    await issuer.idle();
    const first = issuer.failure(['shop.test'])!;
    expect(first).toEqual({ message: 'urn:ietf:params:acme:error:connection: refused', at: clock.time, retryAt: clock.time + FIRST_BACKOFF_MS });
    clock.time = first.retryAt - 1;
    issuer.want(['shop.test']);
    await issuer.idle();
    expect(orders).toHaveLength(1);
    clock.time = first.retryAt;
    issuer.want(['shop.test']);
    await issuer.idle();
    expect(issuer.failure(['shop.test'])!.retryAt - clock.time).toBe(2 * FIRST_BACKOFF_MS);
    clock.time = issuer.failure(['shop.test'])!.retryAt;
    issuer.want(['shop.test']);
    await issuer.idle();
    expect(issuer.failure(['shop.test'])).toBeUndefined();
    expect(issuer.current(['shop.test'])).toBeDefined();
    expect(MAX_BACKOFF_MS).toBe(6 * 3_600_000);
  });
});

describe('a pass with tls: acme', () => {
  const app = 'name: shop\nhosts: [shop.test]\ntls: acme\nport: 8080\ncolors:\n  blue: {image: a}\n  green: {image: b}\nactive: blue\n';
  const loaded = loadDesired('c1', [{ path: 'apps/shop.yaml', content: new TextEncoder().encode(app) }]);
  const state = loaded.ok ? loaded.state : undefined;

  it('serves plain HTTP while there is no pair, reports a failed order, and serves the stored pair once there is one', async () => {
    const wanted: string[][] = [];
    let pair: { certFile: string; keyFile: string; notAfter: number; digest: string } | undefined;
    let failure: { message: string; at: number; retryAt: number } | undefined = { message: 'refused', at: 1, retryAt: 2 };
    const issuer = { want: (n: readonly string[]) => void wanted.push([...n]), current: () => pair, failure: () => failure };
    const before = await resolveCertificates(state!, undefined, 0, issuer);
    expect(wanted).toEqual([]); // ordering is a step of its own, after apply
    expect(before.state.apps[0]!.edge.tls).toBe('acme');
    expect(before.errors.size).toBe(0);
    expect(before.info.get('shop')).toMatchObject({ source: 'acme', error: { code: 'CertificateFailed', message: expect.stringMatching(/the ACME order for shop\.test failed: refused; tried again at 1970-01-01T00:00:00\.002Z/) } });
    expect(before.info.get('shop')!.error!.hint).toMatch(/served over plain HTTP meanwhile/);
    pair = { certFile: '/state/acme/c/cert.pem', keyFile: '/state/acme/c/key.pem', notAfter: 5, digest: 'd' };
    failure = undefined;
    const after = await resolveCertificates(state!, undefined, 0, issuer);
    expect(after.state.apps[0]!.edge.tls).toEqual({ certFile: '/state/acme/c/cert.pem', keyFile: '/state/acme/c/key.pem', digest: 'd' });
    expect(after.info.get('shop')).toEqual({ source: 'acme', notAfter: 5 });
  });

  it('orders only once the app\'s host names are served (its route is on the plain-HTTP port that answers HTTP-01)', () => {
    const wanted: string[][] = [];
    const issuer = { want: (n: readonly string[]) => void wanted.push([...n]), current: () => undefined, failure: () => undefined };
    const memory = new Memory({ load: async () => new Set<string>(), save: async () => {} } as never, { load: async () => new Map(), save: async () => {} } as never);
    orderCertificates(state, memory, issuer);
    expect(wanted).toEqual([]);
    memory.applied.set('shop', { spec: state!.apps[0]!, commit: 'c1' });
    orderCertificates(state, memory, issuer);
    expect(wanted).toEqual([['shop.test']]);
  });
});
