// Safe promotion on the real agent, engine and data plane (both drivers), under load: a smoke check that
// fails stops the flip before any user request reaches the new color; a new color that fails a share of
// its requests is flipped to, caught by the guard and flipped back; a healthy flip stands.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { JournalEntry } from '../../src/core/journal.js';
import { HaproxyRouter, haproxyPaths } from '../../src/adapters/haproxy/haproxy-router.js';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { FLAKY_COMMAND } from '../support/flaky-app.js';
import { get, startLoad } from '../support/load.js';
import { freePort } from '../support/ports.js';
import { testImages, until } from '../support/run.js';

describe.each(['embedded', 'haproxy'])('checks and guard on the real agent (--router %s)', (router) => {
  // Both drivers: a failed check and a guard that trips. The rest (a healthy window, the write-back, a
  // canary) is the executor's and the agent's, the same whatever the driver: on the embedded one only.
  const embeddedOnly = router === 'embedded' ? it : undefined;
  const w = new E2eWorld();
  let listen = 0;
  const yaml = (active: 'blue' | 'green', green: string, more = '') =>
    `${appYaml({ listen, active, blueImage: testImages().ok, greenImage: testImages().ok, replicas: 1, greeting: { blue: 'hello', green } })}${FLAKY_COMMAND}${more}`;
  const CHECKS = 'checks:\n  - { path: /cgi-bin/checkout.cgi, expectStatus: 200, bodyContains: "ok", timeout: 2s }\n';
  const metrics = async () => (await fetch(`${w.agent.apiUrl}/metrics`)).text();
  const history = async () => (await (await fetch(`${w.agent.apiUrl}/history`)).json()) as JournalEntry[];
  const settled = (commit: string) =>
    until(`commit ${commit.slice(0, 8)} to be judged`, async () => {
      const app = (await w.agent.status()).apps.web;
      const stalled = app?.conditions.find((c) => c.type === 'Stalled' && c.status === 'True');
      return app?.lastAttemptedCommit === commit && (stalled || app.lastAppliedCommit === commit) ? app : undefined;
    }, 120_000);

  beforeAll(async () => {
    listen = await freePort();
    await w.serve({ 'apps/web.yaml': yaml('blue', 'hi', CHECKS) });
    // The agent pushes reverts to this server (guard.revertCommit).
    w.repo.git('-C', w.repo.bare, 'config', 'http.receivepack', 'true');
    await w.start('300ms', {}, ['--router', router]);
    await until('blue to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('hello (blue)') ? true : undefined), 120_000);
  });
  afterAll(async () => {
    await w.agent?.stop();
    if (router === 'haproxy') await new HaproxyRouter(haproxyPaths(w.stateDir, w.instance), systemClock).shutdown().catch(() => undefined);
    await w.tearDown();
  });

  it('stops the flip on a failing check before any user request reaches green, naming the check and its answer', async () => {
    const load = startLoad(listen);
    await until('traffic', () => (load.counts.ok >= 50 ? true : undefined));
    const commit = w.repo.commit('web: green with a broken checkout', { 'apps/web.yaml': yaml('green', 'broken', CHECKS) });
    const app = await settled(commit);
    const counts = await load.stop();
    const stalled = app.conditions.find((c) => c.type === 'Stalled')!;
    expect(stalled.reason).toBe('ChecksFailed');
    expect(stalled.message).toMatch(/^check 1 \(apps\/web\.yaml:\d+\) GET \/cgi-bin\/checkout\.cgi on green: got 500, expected 200; body: "database is down"; the flip did not happen$/);
    expect(app.activeColor).toBe('blue');
    expect(counts.errors).toEqual([]);
    expect(counts.byColor.green ?? 0).toBe(0);
    expect(counts.byColor.blue).toBe(counts.ok);
    expect((await history()).find((e) => e.commit === commit)).toMatchObject({ result: 'failed', reason: 'ChecksFailed' });
    expect(await metrics()).toMatch(/^switchyard_promotions_stopped_total\{app="web",reason="ChecksFailed"\} 1$/m);
  });

  it('flips to a green that fails a quarter of its requests, and the guard flips back to blue with the figures', async () => {
    const guard = 'guard: { window: 2m, maxErrorRate: 5%, minRequests: 50 }\n';
    const load = startLoad(listen);
    await until('traffic', () => (load.counts.ok >= 50 ? true : undefined));
    const commit = w.repo.commit('web: flaky green, guarded', { 'apps/web.yaml': yaml('green', 'flaky', guard) });
    const app = await settled(commit);
    const seen = load.counts.ok + load.counts.failed;
    await until('more answers after the rollback', () => (load.counts.ok + load.counts.failed >= seen + 200 ? true : undefined));
    const counts = await load.stop();
    const stalled = app.conditions.find((c) => c.type === 'Stalled')!;
    expect(stalled.reason).toBe('GuardFailed');
    const [, rate, measured] = /^error rate ([\d.]+)% over (\d+) requests in \d+ s; limit 5% on green; flipped back to blue$/.exec(stalled.message) ?? [];
    expect(Number(rate)).toBeGreaterThan(5);
    expect(Number(measured)).toBeGreaterThanOrEqual(50);
    expect(app.conditions.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', message: 'rolled back by guard; git still asks for green' });
    expect(app.activeColor).toBe('blue');
    // What the clients saw of green: every answer the guard counted, and failures over the limit.
    const green = counts.byColor.green ?? 0;
    const failedOnGreen = counts.errors.filter((e) => e.includes('(green)')).length;
    expect(green).toBeGreaterThanOrEqual(Number(measured));
    expect(failedOnGreen / green).toBeGreaterThan(0.05);
    // Nothing failed but green's own 500s, and after the rollback blue answers everything.
    expect(counts.errors.filter((e) => !e.startsWith('HTTP 500: flaky (green)'))).toEqual([]);
    for (let i = 0; i < 20; i++) expect((await get(listen)).body).toContain('hello (blue)');
    expect((await history()).find((e) => e.commit === commit)).toMatchObject({ result: 'failed', reason: 'GuardFailed', detail: stalled.message });
    const scraped = await metrics();
    expect(scraped).toMatch(/^switchyard_promotions_stopped_total\{app="web",reason="GuardFailed"\} 1$/m);
    expect(scraped).toMatch(/^switchyard_app_degraded\{app="web"\} 1$/m);
  });

  embeddedOnly?.('lets a healthy guarded flip stand through its window', async () => {
    const load = startLoad(listen);
    await until('traffic', () => (load.counts.ok >= 50 ? true : undefined));
    const commit = w.repo.commit('web: healthy green, guarded', { 'apps/web.yaml': yaml('green', 'hi', `${CHECKS}guard: { window: 3s, maxErrorRate: 1%, minRequests: 20 }\n`) });
    const app = await settled(commit);
    const counts = await load.stop();
    expect(app.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(app.conditions.find((c) => c.type === 'Degraded')).toBeUndefined();
    expect(app.activeColor).toBe('green');
    expect(counts.errors).toEqual([]);
    expect(counts.byColor.green).toBeGreaterThan(0);
    expect((await history()).find((e) => e.commit === commit)).toMatchObject({ result: 'applied' });
    expect(await metrics()).toMatch(/^switchyard_app_degraded\{app="web"\} 0$/m);
  });

  embeddedOnly?.('with revertCommit, pushes a revert of the commit it undid, and git and live agree again', async () => {
    const good = await w.settle({ 'apps/web.yaml': yaml('blue', 'hi') }, ['web'], 'web: blue, the known good');
    const commit = w.repo.commit('web: flaky green, guarded, reverted', { 'apps/web.yaml': yaml('green', 'flaky', 'guard: { window: 2m, maxErrorRate: 5%, minRequests: 50, revertCommit: true }\n') });
    const load = startLoad(listen);
    const reverted = await until('the revert to be pushed and applied', async () => {
      const app = (await w.agent.status()).apps.web;
      const tip = w.repo.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0]!;
      return tip !== commit && app?.lastAppliedCommit === tip && app.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? { app, tip } : undefined;
    }, 120_000);
    const counts = await load.stop();
    expect(counts.byColor.green ?? 0).toBeGreaterThan(0);
    w.repo.git('fetch', '-q', 'origin');
    expect(w.repo.git('log', '-1', '--format=%an%n%B', 'origin/main')).toMatch(new RegExp(`^switchyard \\(${w.instance}\\)\nRevert "web: flaky green, guarded, reverted"\n\nThis reverts commit ${commit}\.\n\nswitchyard guard, app web: error rate [\\d.]+% over \\d+ requests`));
    expect(w.repo.git('rev-parse', 'origin/main^{tree}')).toBe(w.repo.git('rev-parse', `${good}^{tree}`));
    expect(reverted.app.activeColor).toBe('blue');
    expect(reverted.app.conditions.find((c) => c.type === 'Degraded')).toBeUndefined();
    const entries = await history();
    expect(entries.find((e) => e.commit === commit && e.result === 'reverted')).toMatchObject({ detail: expect.stringMatching(new RegExp(`^reverted in ${reverted.tip} on main: `)) });
    expect(entries.find((e) => e.commit === reverted.tip)).toMatchObject({ result: 'applied' });
    w.repo.git('merge', '-q', '--ff-only', 'origin/main');
  });

  embeddedOnly?.('guards a canary: a flaky green at 20% is put back to 0%, and git still asks for 20%', async () => {
    const load = startLoad(listen);
    await until('traffic', () => (load.counts.ok >= 50 ? true : undefined));
    const commit = w.repo.commit('web: 20% to a flaky green, guarded', { 'apps/web.yaml': yaml('blue', 'flaky', 'canary: { weight: 20, sticky: false }\nguard: { window: 2m, maxErrorRate: 5%, minRequests: 20 }\n') });
    const app = await settled(commit);
    const seen = load.counts.ok + load.counts.failed;
    await until('more answers after the guard', async () => (load.counts.ok + load.counts.failed >= seen + 200 ? true : undefined));
    const counts = await load.stop();
    const stalled = app.conditions.find((c) => c.type === 'Stalled')!;
    expect(stalled.reason).toBe('GuardFailed');
    expect(stalled.message).toMatch(/^error rate [\d.]+% over \d+ requests in \d+ s; limit 5% on green; canary weight back to 0%$/);
    expect(app.conditions.find((c) => c.type === 'Degraded')?.message).toBe('canary held back by guard; git still asks for 20% to green');
    expect(counts.byColor.green ?? 0).toBeGreaterThan(0);
    expect(counts.errors.filter((e) => !e.startsWith('HTTP 500: flaky (green)'))).toEqual([]);
    for (let i = 0; i < 20; i++) expect((await get(listen)).body).toContain('hello (blue)');
  });
});
