import { describe, expect, it } from 'vitest';
import { certCovers, hostAllowed, hostnameProblem, prefixProblem, requestHost, stripPrefix, underPrefix } from '../../src/core/hostname.js';
import { HostTable } from '../../src/adapters/dataplane/host-table.js';
import type { AppRoute } from '../../src/core/route.js';

describe('host names', () => {
  it.each([
    ['shop.example.com', undefined],
    ['localhost', undefined],
    ['*.example.com', undefined],
    ['a-b.c1.example', undefined],
    ['shop.example.com:443', /has a port/],
    ['foo.*.example.com', /wildcard in the wrong place/],
    ['*foo.example.com', /wildcard in the wrong place/],
    ['*.*.example.com', /one wildcard only/],
    ['*.com', /top-level domain/],
    ['-shop.example.com', /is not a host name/],
    ['shop..example.com', /is not a host name/],
    ['shop_1.example.com', /is not a host name/],
    [`${'a'.repeat(64)}.example.com`, /is not a host name/],
    [`${'a.'.repeat(127)}com`, /longer than 253/],
  ])('%s: %s', (name, problem) => {
    if (problem) expect(hostnameProblem(name)).toMatch(problem);
    else expect(hostnameProblem(name)).toBeUndefined();
  });

  it('reads the host of a Host header or SNI name: lowercase, no port, no trailing dot, never an IPv6 literal', () => {
    expect(requestHost('Shop.Example.COM:8443')).toBe('shop.example.com');
    expect(requestHost('shop.example.com.')).toBe('shop.example.com');
    expect(requestHost('[::1]:80')).toBeUndefined();
    expect(requestHost(undefined)).toBeUndefined();
    expect(requestHost('')).toBeUndefined();
  });

  it('lets the policy allow exact names and everything below a wildcard, and nothing else', () => {
    const policy = ['*.example.com', 'other.org'];
    expect(hostAllowed('shop.example.com', policy)).toBe(true);
    expect(hostAllowed('a.b.example.com', policy)).toBe(true);
    expect(hostAllowed('*.shop.example.com', policy)).toBe(true);
    expect(hostAllowed('other.org', policy)).toBe(true);
    expect(hostAllowed('example.com', policy)).toBe(false);
    expect(hostAllowed('evil-example.com', policy)).toBe(false);
    expect(hostAllowed('www.other.org', policy)).toBe(false);
    expect(hostAllowed('x.example.com', [])).toBe(false);
  });

  it('matches certificate names as TLS does: one wildcard label, exact otherwise', () => {
    expect(certCovers('shop.example.com', 'shop.example.com')).toBe(true);
    expect(certCovers('*.example.com', 'shop.example.com')).toBe(true);
    expect(certCovers('*.example.com', 'a.shop.example.com')).toBe(false);
    expect(certCovers('*.example.com', 'example.com')).toBe(false);
    expect(certCovers('*.example.com', '*.example.com')).toBe(true);
    expect(certCovers('shop.example.com', '*.example.com')).toBe(false);
  });
});

describe('path prefixes', () => {
  it.each([
    ['/api', undefined],
    ['/', undefined],
    ['api', /must begin with \//],
    ['/api?x=1', /letters, digits and \. _ ~ - \/ only/],
    ['/a,b', /letters, digits/],
    ['/v1.2_x~y-z', undefined],
    ['/a//b', /\/\/ or \. or \.\./],
    ['/a/../b', /\/\/ or \. or \.\./],
  ])('%s: %s', (prefix, problem) => {
    if (problem) expect(prefixProblem(prefix)).toMatch(problem);
    else expect(prefixProblem(prefix)).toBeUndefined();
  });

  it('covers the prefix itself and what lies below it, not a longer name', () => {
    expect(['/api', '/api/', '/api/x', '/api?q=1'].map((p) => underPrefix(p, '/api'))).toEqual([true, true, true, true]);
    expect(['/apix', '/ap', '/'].map((p) => underPrefix(p, '/api'))).toEqual([false, false, false]);
    expect(underPrefix('/anything', '/')).toBe(true);
  });

  it('strips the prefix and never leaves an empty path', () => {
    expect(stripPrefix('/api/x?y', '/api')).toBe('/x?y');
    expect(stripPrefix('/api', '/api')).toBe('/');
    expect(stripPrefix('/api?q', '/api')).toBe('/?q');
    expect(stripPrefix('/x', '/')).toBe('/x');
  });
});

describe('the host table of a shared entrypoint', () => {
  const route = (app: string, names: string[], pathPrefix = '/', stripPrefix = false): AppRoute => ({
    app, color: 'blue', targets: [], drainTimeoutMs: 0, hosts: { names, pathPrefix, stripPrefix },
  });
  const table = new HostTable([
    route('shop', ['shop.example.com']),
    route('api', ['shop.example.com'], '/api', true),
    route('v2', ['shop.example.com'], '/api/v2'),
    route('tenants', ['*.example.com']),
    route('admin', ['admin.example.com']),
  ]);

  it('picks the exact name before a wildcard, then the longest prefix', () => {
    const app = (host: string, path: string) => table.lookup(host, path)?.app;
    expect(app('shop.example.com', '/')).toBe('shop');
    expect(app('shop.example.com', '/apix')).toBe('shop');
    expect(app('shop.example.com', '/api/x')).toBe('api');
    expect(app('shop.example.com', '/api/v2/x')).toBe('v2');
    expect(app('acme.example.com', '/api')).toBe('tenants');
    expect(app('admin.example.com', '/')).toBe('admin');
    expect(app('a.b.example.com', '/')).toBeUndefined();
    expect(app('example.com', '/')).toBeUndefined();
    expect(app('other.org', '/')).toBeUndefined();
    expect(table.lookup('shop.example.com', '/api/x')).toEqual({ app: 'api', pathPrefix: '/api', stripPrefix: true });
  });
});
