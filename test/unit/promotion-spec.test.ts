// checks and guard as the loader reads them: defaults, units, where each check is, and what a data plane
// that cannot judge a p99 (HAProxy) refuses.
import { describe, expect, it } from 'vitest';
import { TEXT_ONLY } from '../../src/core/host.js';
import { loadDesired } from '../../src/desired/load.js';
import { DEFAULT_POLICY } from '../../src/policy/policy.js';
import { appYaml } from '../support/app-yaml.js';

const MORE = `checks:
  - { path: /checkout/health, expectStatus: 200, bodyContains: "ok", timeout: 2s }
  - { path: /api/version, method: HEAD, headers: { Accept: application/json } }
guard:
  window: 2m
  maxErrorRate: 1.5%
  maxP99: 800ms
`;
const load = (text: string, host = TEXT_ONLY) => loadDesired('c1', [{ path: 'apps/web.yaml', content: new TextEncoder().encode(text) }], DEFAULT_POLICY, host);

describe('checks and guard in the app file', () => {
  it('reads them with their defaults and where each check is', () => {
    const r = load(appYaml({ listen: 9000 }) + MORE);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const [web] = r.state.apps;
    const line = (appYaml({ listen: 9000 }).split('\n').length) + 1;
    expect(web!.checks).toEqual([
      { path: '/checkout/health', method: 'GET', headers: {}, expectStatus: 200, bodyContains: 'ok', timeoutMs: 2000, location: expect.objectContaining({ file: 'apps/web.yaml', line }) },
      { path: '/api/version', method: 'HEAD', headers: { Accept: 'application/json' }, timeoutMs: 5000, location: expect.objectContaining({ file: 'apps/web.yaml', line: line + 1 }) },
    ]);
    expect(web!.guard).toMatchObject({ windowMs: 120_000, maxErrorRate: 0.015, maxP99Ms: 800, minRequests: 50, revertCommit: false });
  });

  it('refuses a malformed rate and, on HAProxy, a p99 it cannot measure, at their lines', () => {
    const bad = load(appYaml({ listen: 9000 }) + MORE.replace('1.5%', 'lots'));
    expect(bad.ok).toBe(false);
    expect(String(!bad.ok && bad.errors[0])).toMatch(/apps\/web\.yaml:\d+:\d+ guard\.maxErrorRate: "lots" is not valid \(hint: .*e\.g\. 1%/);
    const haproxy = load(appYaml({ listen: 9000 }) + MORE, { ...TEXT_ONLY, measuresLatency: false });
    expect(haproxy.ok).toBe(false);
    expect(String(!haproxy.ok && haproxy.errors[0])).toMatch(/^apps\/web\.yaml:\d+:11 guard\.maxP99: cannot be judged by the HAProxy data plane/);
  });
});
