// Safe promotion on fakes: smoke checks between the gate and the flip (through the preview route), and
// the guard after it (the data plane's counters, flip back in one step), in virtual time.
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type AppSpec, type CheckSpec } from '../../src/core/app.js';
import type { CheckResult, CheckTarget, Checker } from '../../src/core/checker.js';
import type { ColorCounters } from '../../src/core/route.js';
import { silentLogger } from '../../src/core/log.js';
import type { ExecutorDeps } from '../../src/executor/deps.js';
import { executeApp } from '../../src/executor/flip.js';
import { judge, quantile, since } from '../../src/executor/guard.js';
import { plan } from '../../src/plan/plan.js';
import { color, NO_EDGE, testApp } from '../support/specs.js';
import { FakeClock, FakeProber, FakeRouter, FakeRuntime } from '../support/fakes.js';

const CHECKS: CheckSpec[] = [
  { path: '/checkout/health', method: 'GET', headers: {}, expectStatus: 200, bodyContains: 'ok', timeoutMs: 5000, location: { file: 'apps/web.yaml', line: 31, col: 5 } },
  { path: '/api/version', method: 'GET', headers: { Accept: 'application/json' }, timeoutMs: 5000, location: { file: 'apps/web.yaml', line: 32, col: 5 } },
];
const GUARD = { windowMs: 120_000, maxErrorRate: 0.01, maxP99Ms: 800, minRequests: 50, revertCommit: false };

const app = testApp;

/** Records each check with the route the data plane had at that moment, and answers as told. */
class FakeChecker implements Checker {
  readonly seen: { target: CheckTarget; check: CheckSpec; route: string }[] = [];
  answer: (check: CheckSpec) => CheckResult = () => ({ ok: true, status: 200 });
  constructor(private readonly router: FakeRouter) {}
  async check(target: CheckTarget, check: CheckSpec): Promise<CheckResult> {
    const r = this.router.table.get('web');
    this.seen.push({ target, check, route: r ? `${r.color} [${r.targets.map((t) => t.color).join(',')}] canary=${r.routing?.canary?.weight ?? 0}` : 'no route' });
    return this.answer(check);
  }
}

function setup() {
  const runtime = new FakeRuntime();
  const router = new FakeRouter(runtime.calls);
  const clock = new FakeClock();
  const checker = new FakeChecker(router);
  const deps: ExecutorDeps = { runtime, router, prober: new FakeProber(), checker, clock, log: silentLogger, entrypoints: { listenHost: '127.0.0.1' } };
  const step = async (a: AppSpec, signal?: AbortSignal) => {
    const p = plan({ commit: 'c', apps: [a] }, { targets: await runtime.list(), routes: await router.routes() }, deps.entrypoints, clock.now());
    return executeApp(p.apps[0]!, deps, signal);
  };
  return { runtime, router, clock, checker, deps, step };
}

describe('smoke checks', () => {
  it('runs each check in order through the preview route (no canary in it) before the flip, then flips', async () => {
    const { router, checker, step } = setup();
    const routing = { rules: [], canary: { weight: 10, sticky: true } };
    await step(app('blue', { checks: CHECKS, routing }));
    checker.seen.length = 0;
    const result = await step(app('green', { checks: CHECKS, routing, colors: { blue: color('img:1', 2), green: color('img:3', 2) } }));
    expect(result).toMatchObject({ ok: true });
    expect(checker.seen.map((s) => [s.check.path, s.target.host, s.target.port, s.target.headers['X-Switchyard-Color'], s.route])).toEqual([
      ['/checkout/health', '127.0.0.1', 9000, 'green', 'blue [blue,blue,green,green] canary=0'],
      ['/api/version', '127.0.0.1', 9000, 'green', 'blue [blue,blue,green,green] canary=0'],
    ]);
    expect(router.table.get('web')!.color).toBe('green');
    expect(router.table.get('web')!.routing?.canary?.weight).toBe(10);
  });

  it('stops the flip at the first failing check: the route goes back as it was, the new targets go, and the message names the check', async () => {
    const { router, runtime, checker, step } = setup();
    // A previewable standby is routed (for preview), so its old targets stay until a flip is done.
    const routing = { rules: [], preview: { ...DEFAULTS.preview } };
    await step(app('blue', { checks: CHECKS, routing }));
    const before = router.table.get('web')!;
    const green = runtime.byColor('web', 'green').map((t) => t.id).sort();
    // The first deploy ran them on a target directly (no route yet).
    expect(checker.seen.map((s) => [s.route, s.target.port === 9000])).toEqual([['no route', false], ['no route', false]]);
    checker.seen.length = 0;
    checker.answer = (c) => (c.path === '/checkout/health' ? { ok: false, status: 500, excerpt: 'database is down', why: 'got 500, expected 200' } : { ok: true, status: 200 });
    const result = await step(app('green', { checks: CHECKS, routing, colors: { blue: color('img:1', 2), green: color('img:3', 2) } }));
    expect(result).toMatchObject({
      ok: false,
      reason: 'ChecksFailed',
      retry: 'needs-human',
      message: 'check 1 (apps/web.yaml:31) GET /checkout/health on green: got 500, expected 200; body: "database is down"; the flip did not happen',
    });
    expect(checker.seen.filter((s) => s.check.path === '/api/version')).toEqual([]);
    expect(router.table.get('web')).toEqual(before);
    expect(runtime.byColor('web', 'green').map((t) => t.id).sort()).toEqual(green);
    expect(runtime.calls.filter((c) => c.startsWith('create web/green'))).toHaveLength(4);
  });

  it('sends a host-name app\'s checks to its TLS entrypoint with SNI, under its path prefix', async () => {
    const { checker, deps, step } = setup();
    deps.entrypoints = { listenHost: '127.0.0.1', https: { host: '0.0.0.0', port: 8443 }, http: { host: '127.0.0.1', port: 8080 } };
    const edge = { ...NO_EDGE, hosts: ['shop.example.com'], pathPrefix: '/shop', tls: { certFile: '/c', keyFile: '/k', digest: 'd1' } };
    const { listen: _l, ...noListen } = app('blue', { checks: CHECKS.slice(0, 1), edge });
    await step(noListen);
    await step({ ...noListen, active: 'green' });
    expect(checker.seen.at(-1)!.target).toEqual({ host: '127.0.0.1', port: 8443, pathPrefix: '/shop', headers: { 'X-Switchyard-Color': 'green', host: 'shop.example.com' }, tls: { servername: 'shop.example.com' } });
  });
});

describe('guard', () => {
  const counters = (requests: number, errors5xx: number): ColorCounters => ({ requests, errors5xx, inFlight: 0 });

  it('flips back in one step on an error rate over the limit, with the figures, and retires nothing', async () => {
    const { router, runtime, clock, step } = setup();
    await step(app('blue', { guard: GUARD }));
    const blueRoute = router.table.get('web')!;
    const t0 = clock.now();
    // Green takes 10 requests a second from the flip on, one in ten failing.
    router.counters = async () => {
      const s = Math.floor((clock.now() - t0) / 1000);
      return { green: counters(1000 + 10 * s, 7 + s), blue: counters(5000, 0) };
    };
    const result = await step(app('green', { guard: GUARD }));
    expect(result).toMatchObject({ ok: false, reason: 'GuardFailed', retry: 'needs-human', message: expect.stringMatching(/^error rate 10(\.\d+)?% over 5\d requests in \d+ s; limit 1% on green; flipped back to blue$/) });
    expect(router.table.get('web')).toEqual(blueRoute);
    expect(router.applied.map((r) => r.color)).toEqual(['blue', 'green', 'blue']);
    expect(clock.now() - t0).toBeLessThan(GUARD.windowMs);
    expect(runtime.byColor('web', 'blue').every((t) => t.running)).toBe(true);
    expect(router.drains).toEqual([]);
  });

  it('lets a healthy flip stand for the whole window, and does not judge on fewer than minRequests', async () => {
    const { router, clock, step } = setup();
    await step(app('blue', { guard: GUARD }));
    const t0 = clock.now();
    // Few requests, all failing: under minRequests, never judged.
    router.counters = async () => ({ green: counters(Math.floor((clock.now() - t0) / 5000), Math.floor((clock.now() - t0) / 5000)) });
    expect(await step(app('green', { guard: GUARD }))).toMatchObject({ ok: true });
    expect(clock.now() - t0).toBeGreaterThanOrEqual(GUARD.windowMs);
    expect(router.table.get('web')!.color).toBe('green');
    expect(judge({ requests: 1000, errors: 10, elapsedMs: 60_000 }, GUARD)).toBeUndefined();
    expect(judge({ requests: 1000, errors: 11, elapsedMs: 60_000 }, GUARD)).toBe('error rate 1.1% over 1000 requests in 60 s; limit 1%');
  });

  it('judges p99 from the latency histogram grown since the flip', () => {
    const buckets = [100, 250, 500, 1000, 2500];
    const h = (counts: number[]) => ({ bucketsMs: buckets, counts, count: counts.at(-1)!, sumMs: 0 });
    // 100 answers before the flip, all fast; then 100 more, 98 fast and 2 over a second.
    const base = { ...counters(100, 0), latency: h([100, 100, 100, 100, 100]) };
    const now = { ...counters(200, 0), latency: h([198, 198, 198, 198, 200]) };
    const f = since(base, now, 30_000);
    expect(f).toMatchObject({ requests: 100, errors: 0 });
    expect(f.p99Ms).toBe(1750);
    expect(judge(f, { ...GUARD, minRequests: 100 })).toBe('p99 1750 ms over 100 requests in 30 s; limit 800 ms');
    expect(quantile(h([50, 90, 100, 100, 100]), 0.5)).toBe(100);
    expect(quantile(h([0, 0, 0, 0, 0]), 0.99)).toBe(100);
  });

  it('stops watching when a newer commit arrives, and keeps the flip', async () => {
    const { router, step } = setup();
    await step(app('blue', { guard: GUARD }));
    const newer = new AbortController();
    router.counters = async () => {
      newer.abort();
      return {};
    };
    expect(await step(app('green', { guard: GUARD }), newer.signal)).toMatchObject({ ok: true });
    expect(router.table.get('web')!.color).toBe('green');
  });
});

describe('guard on a canary', () => {
  const counters = (requests: number, errors5xx: number): ColorCounters => ({ requests, errors5xx, inFlight: 0 });
  const canary = (weight: number) => app('blue', { guard: GUARD, routing: { rules: [], canary: { weight, sticky: false } } });

  it('judges the canary color when its weight rises, and puts the weight back on a breach, saying how live differs from git', async () => {
    const { router, clock, step } = setup();
    await step(canary(0));
    const before = router.table.get('web')!;
    const t0 = clock.now();
    // The canary (green) fails one in five; blue is fine.
    router.counters = async () => {
      const s = Math.floor((clock.now() - t0) / 1000);
      return { blue: counters(100 * s, 0), green: counters(20 * s, 4 * s) };
    };
    const result = await step(canary(20));
    expect(result).toMatchObject({ ok: false, reason: 'GuardFailed', message: expect.stringMatching(/^error rate 20% over \d+ requests in \d+ s; limit 1% on green; canary weight back to 0%$/), degraded: 'canary held back by guard; git still asks for 20% to green' });
    expect(router.table.get('web')).toEqual(before);
    expect(router.applied.map((r) => r.routing?.canary?.weight ?? 0)).toEqual([0, 20, 0]);
  });

  it('does not watch a canary whose weight falls, nor a change that is no flip', async () => {
    const { router, step } = setup();
    await step(canary(30));
    let reads = 0;
    router.counters = async () => {
      reads++;
      return { green: counters(1000, 1000) };
    };
    expect(await step(canary(10))).toMatchObject({ ok: true });
    expect(reads).toBe(0);
  });
});

describe('the canary share, judged first', () => {
  const counters = (requests: number, errors5xx: number): ColorCounters => ({ requests, errors5xx, inFlight: 0 });
  const canary = (weight: number, active: 'blue' | 'green' = 'blue') => app(active, { guard: GUARD, routing: { rules: [], canary: { weight, sticky: false } } });

  it('watches a canary at its share before raising it, and leaves everything as it was when the share is bad', async () => {
    const { router, clock, step } = setup();
    await step(canary(0));
    await step(canary(10));
    const before = router.table.get('web')!;
    const applied = router.applied.length;
    const t0 = clock.now();
    router.counters = async () => {
      const s = Math.floor((clock.now() - t0) / 1000);
      return { green: counters(10 * s, 2 * s) };
    };
    const result = await step(canary(50));
    expect(result).toMatchObject({ ok: false, reason: 'GuardFailed', message: expect.stringMatching(/^error rate 20% over \d+ requests in \d+ s; limit 1% on green; the canary share \(10%\) was judged first: its weight did not rise$/) });
    expect('degraded' in result).toBe(false);
    expect(router.table.get('web')).toEqual(before);
    expect(router.applied.slice(applied).map((r) => r.routing?.canary?.weight)).toEqual([10]);
  });

  it('judges the share before flipping to the canary color, then guards the flip', async () => {
    const { router, clock, step } = setup();
    await step(canary(0));
    await step(canary(10));
    const t0 = clock.now();
    const reads: string[] = [];
    router.counters = async () => {
      reads.push(router.table.get('web')!.color);
      const s = Math.floor((clock.now() - t0) / 1000);
      return { green: counters(100 * s, 0) };
    };
    expect(await step(canary(10, 'green'))).toMatchObject({ ok: true });
    expect(router.table.get('web')!.color).toBe('green');
    // Read at blue (the share, first) for a window, then at green (the guard after the flip) for another.
    expect(reads[0]).toBe('blue');
    expect(reads.at(-1)).toBe('green');
    expect(clock.now() - t0).toBeGreaterThanOrEqual(2 * GUARD.windowMs);
  });
});
