// The app file's front-door fields as the loader judges them: located errors for bad names, prefixes and
// paths, the policy's host list, what this agent's entrypoints and data plane can serve, and claims
// across files.
import { describe, expect, it } from 'vitest';
import { loadDesired } from '../../src/desired/load.js';
import { DEFAULT_POLICY, type Policy } from '../../src/policy/policy.js';
import { TEXT_ONLY, type HostView } from '../../src/core/host.js';
import { desiredRoute } from '../../src/plan/plan.js';

const enc = (s: string) => new TextEncoder().encode(s);
const HEAD = 'port: 8080\ncolors:\n  blue: {image: a}\n  green: {image: b}\nactive: blue\n';
const app = (name: string, more: string) => `name: ${name}\n${more}${HEAD}`;
const BOTH: HostView = { ...TEXT_ONLY, entrypoints: { http: true, https: true } };
const load = (files: Record<string, string>, policy: Policy = DEFAULT_POLICY, host: HostView = BOTH) =>
  loadDesired('c1', Object.entries(files).map(([path, c]) => ({ path, content: enc(c) })), policy, host);
const errors = (r: ReturnType<typeof load>) => (r.ok ? [] : r.errors.map((e) => `${e.code} ${e.toString()}`));

describe('the front door in an app file', () => {
  it('loads hosts, prefix, TLS files, maintenance and limits, with listen optional', () => {
    const r = load({
      'apps/shop.yaml': app('shop', 'hosts: [Shop.Example.com, "*.shop.example.com"]\npathPrefix: /store/\nstripPrefix: true\ntls: {certFile: /etc/switchyard/certs/s.pem, keyFile: /etc/switchyard/certs/s.key}\nmaintenance: {message: Back at 14:00, retryAfter: 30m}\nlimits: {maxRequestBody: 10m, requestTimeout: 1m30s}\n'),
    });
    expect(errors(r)).toEqual([]);
    const [shop] = r.ok ? r.state.apps : [];
    expect(shop!.listen).toBeUndefined();
    expect(shop!.edge).toMatchObject({
      hosts: ['shop.example.com', '*.shop.example.com'],
      pathPrefix: '/store',
      stripPrefix: true,
      tls: { certFile: '/etc/switchyard/certs/s.pem', keyFile: '/etc/switchyard/certs/s.key', location: { file: 'apps/shop.yaml', line: 5 } },
      maintenance: { message: 'Back at 14:00', retryAfterS: 1800 },
      limits: { maxRequestBodyBytes: 10 * 1024 * 1024, requestTimeoutMs: 90_000 },
    });
  });

  it('refuses bad names, a wildcard in the wrong place, a prefix without /, each at its line', () => {
    const r = load({ 'apps/a.yaml': app('a', 'hosts:\n  - ok.example.com\n  - "shop.*.example.com"\n  - bad_name.example.com\npathPrefix: api\n') });
    expect(errors(r)).toEqual([
      expect.stringMatching(/^ValidationFailed apps\/a\.yaml:4:5 hosts\[1\]: host name "shop\.\*\.example\.com" has a wildcard in the wrong place/),
      expect.stringMatching(/^ValidationFailed apps\/a\.yaml:5:5 hosts\[2\]: host name "bad_name\.example\.com" is not a host name/),
      expect.stringMatching(/^ValidationFailed apps\/a\.yaml:6:13 pathPrefix: pathPrefix "api" must begin with \//),
    ]);
  });

  it('refuses a preview port on an app with no port of its own', () => {
    expect(errors(load({ 'apps/a.yaml': app('a', 'hosts: [a.example.com]\npreview: {port: 9001}\n') }))).toEqual([expect.stringMatching(/:3:17 preview\.port: a preview port needs the app's own `listen`/)]);
  });

  it('refuses an app served nowhere, and prefix or tls without hosts', () => {
    expect(errors(load({ 'apps/a.yaml': app('a', '') }))).toEqual([expect.stringMatching(/apps\/a\.yaml:1:7 name: the app is served nowhere \(hint: set `listen`/)]);
    expect(errors(load({ 'apps/a.yaml': app('a', 'listen: 9000\npathPrefix: /api\n') }))).toEqual([expect.stringMatching(/:3:13 pathPrefix: "pathPrefix" applies to apps served by host name/)]);
  });

  it('refuses names outside policy.hosts and certificate files outside policy.certPaths (PolicyDenied)', () => {
    const policy: Policy = { ...DEFAULT_POLICY, hosts: ['*.team-a.example.com'], certPaths: ['/srv/certs'] };
    const r = load({ 'apps/a.yaml': app('a', 'hosts: [www.team-a.example.com, pay.team-b.example.com]\ntls: {certFile: /srv/certs/a.pem, keyFile: /srv/certs/../keys/a.key}\n') }, policy);
    expect(errors(r)).toEqual([
      expect.stringMatching(/^PolicyDenied apps\/a\.yaml:2:33 hosts\[1\]: host name pay\.team-b\.example\.com: denied by the agent's policy \(rule "hosts"\) \(hint: claim a name under \*\.team-a\.example\.com/),
      expect.stringMatching(/^PolicyDenied apps\/a\.yaml:3:.* tls\.keyFile: reading \/srv\/certs\/\.\.\/keys\/a\.key as tls\.keyFile: denied .*rule "certPaths"/),
    ]);
  });

  it('names both files and lines when two apps claim the same host and prefix; different prefixes share a host', () => {
    const r = load({
      'apps/a.yaml': app('a', 'hosts: [shop.example.com]\n'),
      'apps/b.yaml': app('b', 'hosts:\n  - www.example.com\n  - Shop.example.com\n'),
      'apps/c.yaml': app('c', 'hosts: [shop.example.com]\npathPrefix: /api\n'),
    });
    expect(errors(r)).toEqual([expect.stringMatching(/^ValidationFailed apps\/b\.yaml:4:5 hosts\[1\]: shop\.example\.com is already claimed by app "a" at apps\/a\.yaml:2:9 hosts\[0\]/)]);
  });

  it('refuses what this agent cannot serve: no shared port for the app', () => {
    const noHttps: HostView = { ...TEXT_ONLY, entrypoints: { http: true, https: false } };
    const tls = 'hosts: [a.example.com]\ntls: {certFile: /etc/switchyard/certs/a.pem, keyFile: /etc/switchyard/certs/a.key}\n';
    expect(errors(load({ 'apps/a.yaml': app('a', tls) }, DEFAULT_POLICY, noHttps))).toEqual([expect.stringMatching(/:3:6 tls: the app asks for TLS, and this agent has no shared HTTPS port \(hint: an operator sets entrypoints\.https \(--https\)/)]);
    const none: HostView = { ...TEXT_ONLY, entrypoints: { http: false, https: false } };
    expect(errors(load({ 'apps/a.yaml': app('a', 'hosts: [a.example.com]\n') }, DEFAULT_POLICY, none))).toEqual([expect.stringMatching(/:2:8 hosts: .* no shared HTTP port/)]);
    // In a repository's CI the entrypoints are not known: the file is judged on its own.
    expect(errors(load({ 'apps/a.yaml': app('a', 'hosts: [a.example.com]\n') }, DEFAULT_POLICY, TEXT_ONLY))).toEqual([]);
  });

  it('takes tls: acme with the agent\'s acme settings and a port for one of its challenges; never for a wildcard', () => {
    const acme: HostView = { ...BOTH, acmeChallenges: ['http-01', 'tls-alpn-01'] };
    const file = { 'apps/a.yaml': app('a', 'hosts: [a.example.com]\ntls: acme\n') };
    expect(errors(load(file, DEFAULT_POLICY, acme))).toEqual([]);
    expect(errors(load(file, DEFAULT_POLICY, { ...acme, acmeChallenges: [] }))).toEqual([expect.stringMatching(/:3:6 tls: tls: acme, and this agent has no acme settings/)]);
    // TLS-ALPN-01 on the TLS port does without a plain-HTTP one; HAProxy answers HTTP-01 only.
    const noHttp = { ...acme, entrypoints: { http: false, https: true } };
    expect(errors(load(file, DEFAULT_POLICY, noHttp))).toEqual([]);
    expect(errors(load(file, DEFAULT_POLICY, { ...noHttp, acmeChallenges: ['http-01'] }))).toEqual([expect.stringMatching(/:3:6 tls: tls: acme, and this agent has no port to answer http-01 on \(hint: an operator sets entrypoints\.http/)]);
    expect(errors(load({ 'apps/a.yaml': app('a', 'hosts: [a.example.com, "*.example.com"]\ntls: acme\n') }, DEFAULT_POLICY, acme))).toEqual([expect.stringMatching(/:2:24 hosts\[1\]: a wildcard name cannot get an ACME certificate here: that needs DNS-01/)]);
  });
});

describe('the route of an app on the shared entrypoints', () => {
  const loaded = load({ 'apps/shop.yaml': app('shop', 'listen: 9000\nhosts: [shop.example.com]\ntls: {certFile: /etc/switchyard/certs/s.pem, keyFile: /etc/switchyard/certs/s.key}\n') });
  const shop = loaded.ok ? loaded.state.apps[0]! : undefined;
  const at = { listenHost: '127.0.0.1', http: { host: '127.0.0.1', port: 8080 }, https: { host: '127.0.0.1', port: 8443 } };

  it('is plain HTTP until the certificate has been read, then HTTPS with HTTP redirecting', () => {
    expect(desiredRoute(shop!, { blue: [], green: [] }, at)).toMatchObject({ listen: { port: 9000 }, hosts: { names: ['shop.example.com'], http: { port: 8080 } } });
    expect(desiredRoute(shop!, { blue: [], green: [] }, at).hosts).not.toHaveProperty('https');
    const read = { ...shop!, edge: { ...shop!.edge, tls: { certFile: '/etc/switchyard/certs/s.pem', keyFile: '/etc/switchyard/certs/s.key', digest: 'd1' } } };
    expect(desiredRoute(read, { blue: [], green: [] }, at).hosts).toEqual({
      names: ['shop.example.com'], pathPrefix: '/', stripPrefix: false, http: at.http, https: at.https, tls: { certFile: '/etc/switchyard/certs/s.pem', keyFile: '/etc/switchyard/certs/s.key', digest: 'd1' },
    });
  });
});
