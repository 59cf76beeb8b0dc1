// End to end, on real parts: commits pushed with the git CLI to a bare repository served by
// `git http-backend`, the real `switchyard run` process, a real Docker engine, traffic through the proxy.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyCondition } from '../../src/core/status.js';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { commitLive, startAgent, tearDown, type AgentProcess } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { get, startLoad } from '../support/load.js';
import { instanceName, stateDir as newStateDir, testImages, until } from '../support/run.js';

describe('switchyard end to end: git push -> health gate -> proxy flip', () => {
  const instance = instanceName();
  const runtime = new DockerRuntime(connectDocker(), instance);
  let repo: TestRepo;
  let server: GitServer;
  let stateDir: string;
  let listen: number;
  let agent: AgentProcess;
  const yaml = (o: Partial<Parameters<typeof appYaml>[0]> = {}) =>
    appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok, replicas: 2, greeting: { blue: 'hello', green: 'hi' }, ...o });
  const serving = (color: string) =>
    until(`${color} to serve`, async () => {
      const r = await get(listen).catch(() => undefined);
      return r?.status === 200 && r.body.includes(`(${color})`) ? r.body : undefined;
    });
  const args = () => ['--repo', `${server.url}/desired.git`, '--branch', 'main', '--interval', '300ms', '--instance', instance, '--state-dir', stateDir];
  const liveIds = async () => (await runtime.list()).filter((t) => t.running).map((t) => t.id).sort();
  // Asynchronous on purpose: the git server runs in this process and must keep answering meanwhile.
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/switchyard.js', ...args], { encoding: 'utf8', env }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const cli = (...args: string[]) => run([...args, '--api', agent.apiUrl.replace('http://', ''), '--state-dir', stateDir, '--instance', instance]);
  /**
   * Each test starts from a state it sets itself, so that one failure does not cascade into the tests
   * after it: an agent running, the app resumed, and a commit of this spec live and Ready.
   */
  const settle = async (o: Partial<Parameters<typeof appYaml>[0]> = {}) => {
    if (!agent.running()) agent = await startAgent(args());
    if ((await agent.status()).apps.web?.suspended) expect(await cli('resume', 'web')).toMatchObject({ code: 0 });
    return commitLive(agent, repo, { 'apps/web.yaml': yaml(o) }, ['web'], `web: test baseline (${o.active ?? 'blue'})`);
  };

  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    stateDir = newStateDir();
    listen = await freePort();
    repo.commit('web: first deploy, blue', { 'apps/web.yaml': yaml() });
    agent = await startAgent(args());
  });
  afterAll(() => tearDown({ agent, stateDir, instance, server, repo, runtime }));

  it('serves blue from the first commit, with green brought up warm', async () => {
    expect(await serving('blue')).toBe('hello from web ok (blue)\n');
    const targets = await until('both colors to run', async () => {
      const ts = (await runtime.list()).filter((t) => t.running);
      return ts.length === 4 ? ts : undefined;
    });
    expect(targets.map((t) => `${t.color}${t.replica}`).sort()).toEqual(['blue0', 'blue1', 'green0', 'green1']);
  });

  it('flips to green on a pushed commit with zero failed requests, and keeps blue running', async () => {
    await settle();
    const before = await liveIds();
    const load = startLoad(listen);
    const flip = repo.commit('web: flip to green', { 'apps/web.yaml': yaml({ active: 'green' }) });
    await until('green to take the traffic', () => ((load.counts.byColor.green ?? 0) >= 50 ? true : undefined));
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(counts.ok).toBeGreaterThan(50);
    expect(await liveIds()).toEqual(before);
    const web = await until('the flip and its traffic in the status', async () => {
      const app = (await agent.status()).apps.web;
      const proxied = (app?.traffic.blue?.requests ?? 0) + (app?.traffic.green?.requests ?? 0);
      const inFlight = (app?.traffic.blue?.inFlight ?? 0) + (app?.traffic.green?.inFlight ?? 0);
      return app?.lastAppliedCommit === flip && proxied >= counts.ok && inFlight === 0 ? app : undefined;
    });
    expect(web).toMatchObject({ activeColor: 'green', traffic: { blue: { errors5xx: 0, inFlight: 0 }, green: { errors5xx: 0, inFlight: 0, lastHit: expect.any(Number) } } });
    expect(web.traffic.green!.requests).toBeGreaterThanOrEqual(counts.byColor.green!);
  });

  it('rolls back with git revert at once: blue serves again from the same warm containers', async () => {
    await settle();
    const flip = repo.commit('web: flip to green', { 'apps/web.yaml': yaml({ active: 'green' }) });
    await until('the flip to be applied', async () => ((await agent.status()).apps.web?.lastAppliedCommit === flip ? true : undefined));
    const before = await liveIds();
    repo.git('revert', '--no-edit', 'HEAD');
    const revert = repo.push();
    expect(await serving('blue')).toMatch(/\(blue\)/);
    expect(await liveIds()).toEqual(before);
    await until('the revert to be applied', async () => ((await agent.status()).apps.web?.lastAppliedCommit === revert ? true : undefined));
  });

  it('keeps blue serving when the new green never becomes healthy, and says why', async () => {
    const good = await settle();
    const bad = repo.commit('web: green 2.0 (broken health)', { 'apps/web.yaml': yaml({ active: 'green', greenImage: testImages().sick, startTimeout: '3s' }) });
    const web = await until('the app to stall', async () => {
      const app = (await agent.status()).apps.web;
      return app?.lastAttemptedCommit === bad && app.conditions.some((c) => c.type === 'Stalled') ? app : undefined;
    });
    expect(readyCondition(web)).toMatchObject({ status: 'False', reason: 'HealthCheckFailed', message: expect.stringMatching(/green is not healthy: .*HTTP 404 on \/healthz/) });
    expect(web).toMatchObject({ activeColor: 'blue', desiredColor: 'green', lastAppliedCommit: good });
    expect((await get(listen)).body).toMatch(/\(blue\)/);
    // The failed green targets were disposed; the old green image's targets were replaced by them
    // before the gate, and blue is untouched.
    const blue = (await runtime.list()).filter((t) => t.color === 'blue' && t.running);
    expect(blue).toHaveLength(2);
    expect(agent.logs.some((l) => l.reason === 'HealthCheckFailed' && String(l.msg).includes('blue keeps serving'))).toBe(true);
  });

  it('changes nothing live for a commit with invalid YAML, and names file, line and field', async () => {
    await settle();
    const before = await liveIds();
    const bad = repo.commit('web: typo', { 'apps/web.yaml': yaml({ active: 'green' }).replace('replicas: 2', 'replicas: two') });
    const status = await until('the commit to be refused', async () => {
      const s = await agent.status();
      return s.desired.lastAttemptedCommit === bad ? s : undefined;
    });
    expect(status.desired.errors).toEqual([expect.stringMatching(/^apps\/web\.yaml:15:\d+ colors\.blue\.replicas: "two" must be integer/)]);
    expect((await get(listen)).body).toMatch(/\(blue\)/);
    expect(await liveIds()).toEqual(before);
  });

  it('adopts its running containers after a restart, even onto an invalid tip', async () => {
    await settle();
    const tip = repo.commit('web: typo', { 'apps/web.yaml': yaml({ active: 'green' }).replace('replicas: 2', 'replicas: two') });
    await until('the invalid tip to be refused', async () => ((await agent.status()).desired.lastAttemptedCommit === tip ? true : undefined));
    const before = await liveIds();
    expect(await agent.stop('SIGTERM')).toBe(0);
    agent = await startAgent(args());
    expect(agent.logs.find((l) => l.msg === 'switchyard agent started')).toMatchObject({ proxyAdopted: true });
    expect(await serving('blue')).toMatch(/\(blue\)/);
    expect(await liveIds()).toEqual(before);
    const s = await until('the new agent to attempt the tip', async () => {
      const st = await agent.status();
      return st.desired.lastAttemptedCommit === tip && st.apps.web ? st : undefined;
    });
    expect(s.desired.errors).toHaveLength(1);
    expect(s.apps.web).toMatchObject({ activeColor: 'blue' });
    expect(agent.logs.filter((l) => l.msg === 'targets created')).toEqual([]);
  });

  it('fails no request while the agent is killed with SIGKILL and started again', async () => {
    await settle();
    const before = await liveIds();
    const load = startLoad(listen);
    await until('traffic to flow', () => (load.counts.ok >= 100 ? true : undefined));
    expect(await agent.stop('SIGKILL')).toBe(null);
    const whileDead = load.counts.ok;
    await until('traffic to flow with no agent', () => (load.counts.ok >= whileDead + 200 ? true : undefined));
    agent = await startAgent(args());
    // activeColor is set as a pass starts: wait for a whole pass of the new agent, load still running.
    await until('the new agent to complete a pass', async () => {
      const s = await agent.status();
      return s.lastSuccessAt !== undefined && s.passRunningSince === undefined && s.apps.web?.activeColor === 'blue' ? true : undefined;
    });
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(counts.byColor).toEqual({ blue: counts.ok });
    expect(await liveIds()).toEqual(before);
    expect(agent.logs.filter((l) => l.msg === 'route switched' || l.msg === 'targets created')).toEqual([]);
  });

  it('finishes the flip in progress when stopped with SIGTERM, then exits 0', async () => {
    await settle();
    // A gate of 20 healthy probes 100 ms apart: the signal lands while the new green targets are gated.
    const flip = repo.commit('web: flip to green (slow gate)', { 'apps/web.yaml': yaml({ active: 'green', greeting: { blue: 'hello', green: 'hi again' } }).replace('healthyThreshold: 2', 'healthyThreshold: 20') });
    await until('the flip to begin', () => (agent.logs.some((l) => l.msg === 'reconciling' && l.commit === flip) ? true : undefined));
    const signalled = agent.logs.length;
    expect(await agent.stop('SIGTERM')).toBe(0);
    const after = agent.logs.slice(signalled).map((l) => l.msg);
    expect(after.indexOf('stopping: finishing the current pass; containers and the data plane keep running')).toBe(0);
    expect(after).toEqual(expect.arrayContaining(['route switched', 'reconciled', 'stopped']));
    expect(after.indexOf('reconciled')).toBeLessThan(after.indexOf('stopped'));
    expect((await get(listen)).body).toBe('hi again from web ok (green)\n');
    agent = await startAgent(args());
  });

  it('previews the inactive color with a header once a commit turns preview on, while blue keeps serving', async () => {
    await settle();
    const on = repo.commit('web: preview on', { 'apps/web.yaml': yaml().replace('colors:', 'preview: {}\ncolors:') });
    await until('the preview commit to apply', async () => ((await agent.status()).apps.web?.lastAppliedCommit === on ? true : undefined));
    expect((await get(listen, undefined, '/', { 'x-switchyard-color': 'green' })).body).toBe('hi from web ok (green)\n');
    expect((await get(listen)).body).toBe('hello from web ok (blue)\n');
  });

  it('runs a worker with the active color, and replaces it only after a flip has switched the route', async () => {
    await settle();
    const withWorker = (active: 'blue' | 'green') => yaml({ active }).replace('colors:', 'preview: {}\nworkers:\n  jobs:\n    command: [/bin/busybox, sleep, "3600"]\ncolors:');
    repo.commit('web: a worker', { 'apps/web.yaml': withWorker('blue') });
    const worker = await until('the blue worker to run', async () => (await runtime.list()).find((t) => t.worker === 'jobs' && t.running && t.color === 'blue'));
    expect(worker.address).toBeUndefined();
    const flip = repo.commit('web: flip, worker follows', { 'apps/web.yaml': withWorker('green') });
    await until('the green worker to replace the blue one', async () => {
      const workers = (await runtime.list()).filter((t) => t.worker === 'jobs');
      return workers.length === 1 && workers[0]!.color === 'green' && workers[0]!.running ? true : undefined;
    });
    await until('the flip to apply', async () => ((await agent.status()).apps.web?.lastAppliedCommit === flip ? true : undefined));
    const switched = agent.logs.findIndex((l) => l.msg === 'route switched' && l.color === 'green' && agent.logs.indexOf(l) > 0);
    const started = agent.logs.findIndex((l, i) => i > switched && l.msg === 'workers started');
    expect(switched).toBeGreaterThan(-1);
    expect(started).toBeGreaterThan(switched);
  });

  describe('operating it from the CLI and /metrics', () => {
    it('waits for a merged commit to go live, and fails with the reason when its color is unhealthy', async () => {
      await settle({ active: 'green' });
      const good = repo.commit('web: back to blue', { 'apps/web.yaml': yaml({ active: 'blue' }) });
      expect(await cli('wait', '--commit', good, '--timeout', '2m')).toMatchObject({ code: 0, stdout: `commit ${good} is live: web (blue)\n` });
      const bad = repo.commit('web: green 3 (unhealthy)', { 'apps/web.yaml': yaml({ active: 'green', greenImage: testImages().sick, startTimeout: '2s' }) });
      const r = await cli('wait', '--commit', bad.slice(0, 12), '--timeout', '2m');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^web: commit [0-9a-f]{12} failed: HealthCheckFailed: green is not healthy/);
    });

    it('retries a failed commit on sync, and shows the history: who, what, when live, how long', async () => {
      await settle();
      const flip = repo.commit('web: flip to green', { 'apps/web.yaml': yaml({ active: 'green' }) });
      await until('the flip to be applied', async () => ((await agent.status()).apps.web?.lastAppliedCommit === flip ? true : undefined));
      const bad = repo.commit('web: blue 3 (unhealthy)', { 'apps/web.yaml': yaml({ active: 'blue', blueImage: testImages().sick, startTimeout: '2s' }) });
      await until('the bad commit to stall', async () => {
        const app = (await agent.status()).apps.web;
        return app?.lastAttemptedCommit === bad && app.conditions.some((c) => c.type === 'Stalled') ? true : undefined;
      });
      const attempts = () => agent.logs.filter((l) => l.msg === 'reconciling' && l.commit === bad).length;
      const before = attempts();
      expect(await cli('sync')).toMatchObject({ code: 0 });
      await until('a retry of the failed commit', () => (attempts() > before ? true : undefined));
      const entries = await until('the retry in the journal', async () => {
        const h = await cli('history', 'web', '--json');
        const all = JSON.parse(h.stdout) as Record<string, unknown>[];
        return all.filter((e) => e.commit === bad && e.result === 'failed').length >= 2 ? all : undefined;
      });
      expect(entries.find((e) => e.commit === flip)).toMatchObject({
        result: 'applied', color: 'green',
        author: 'Test Author <author@example.com>', message: 'web: flip to green', committedAt: expect.any(String), durations: expect.objectContaining({ totalMs: expect.any(Number) }),
      });
      expect((await cli('history')).stdout).toMatch(/^LIVE AT\s+APP\s+COMMIT\s+RESULT/);
    });

    it('leaves a suspended app alone until it is resumed, and refuses changes without the token', async () => {
      await settle();
      expect(await cli('suspend', 'web')).toMatchObject({ code: 0, stdout: 'web suspended: the agent changes nothing about it until resumed\n' });
      const held = repo.commit('web: fixed, while suspended', { 'apps/web.yaml': yaml({ active: 'green' }) });
      await until('the agent to load the commit', async () => ((await agent.status()).desired.commit === held ? true : undefined));
      expect((await agent.status()).apps.web).toMatchObject({ suspended: true, activeColor: 'blue' });
      const noToken = await run(['resume', 'web', '--api', agent.apiUrl.replace('http://', ''), '--state-dir', '/nonexistent'], { ...process.env, SWITCHYARD_API_TOKEN: '' });
      expect(noToken.code).toBe(2);
      expect(noToken.stderr).toMatch(/401: a bearer token is required/);
      expect(await cli('resume', 'web')).toMatchObject({ code: 0 });
      expect(await cli('wait', '--commit', held, '--timeout', '2m')).toMatchObject({ code: 0, stdout: `commit ${held} is live: web (green)\n` });
      expect((await cli('status')).stdout).toMatch(/^APP\s+ACTIVE.*\nweb\s+green\s+green\s+True\s+Succeeded/);
    });

    it('exports Prometheus metrics with the live values', async () => {
      // Blue, then green: at least one flip in this agent's life, whichever color the last test left.
      await settle();
      await settle({ active: 'green' });
      await get(listen);
      const text = await (await fetch(`${agent.apiUrl}/metrics`)).text();
      expect(text).toMatch(/^switchyard_app_active_color\{app="web",color="green"\} 1$/m);
      expect(text).toMatch(/^switchyard_app_active_color\{app="web",color="blue"\} 0$/m);
      expect(text).toMatch(/^switchyard_app_ready\{app="web"\} 1$/m);
      expect(text).toMatch(new RegExp(`^switchyard_app_last_applied_info\\{app="web",revision="${repo.git('rev-parse', 'HEAD')}"\\} 1$`, 'm'));
      expect(Number(/^switchyard_proxy_requests_total\{app="web",color="green"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
      expect(text).toMatch(/^switchyard_proxy_ejected_targets\{app="web",color="green"\} 0$/m);
      expect(Number(/^switchyard_reconcile_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
      expect(Number(/^switchyard_fetch_duration_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
      expect(text).toMatch(/^switchyard_flip_duration_seconds_count\{app="web",result="applied"\} [1-9]/m);
      expect(text).toMatch(/^switchyard_health_checks_total\{result="pass"\} [1-9]/m);
      expect(text).toMatch(/^switchyard_stale 0$/m);
      expect(text).toMatch(/^switchyard_pass_running_seconds \d+(\.\d+)?$/m);
      const count = Number(/^switchyard_proxy_request_duration_seconds_count\{app="web",color="green"\} (\d+)$/m.exec(text)?.[1]);
      expect(count).toBeGreaterThan(0);
      expect(text).toMatch(new RegExp(`^switchyard_proxy_request_duration_seconds_bucket\\{app="web",color="green",le="\\+Inf"\\} ${count}$`, 'm'));
    });
  });

  it('rolls the serving color one target at a time when its env changes, failing no request', async () => {
    await settle({ active: 'green' });
    const load = startLoad(listen);
    await until('traffic', () => (load.counts.ok >= 100 ? true : undefined));
    const rolledBefore = agent.logs.filter((l) => l.msg === 'rolled').length;
    const change = repo.commit('web: green says hey', { 'apps/web.yaml': yaml({ active: 'green', greeting: { blue: 'hello', green: 'hey' } }) });
    await until('the roll to finish', async () => ((await agent.status()).apps.web?.lastAppliedCommit === change ? true : undefined));
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(agent.logs.filter((l) => l.msg === 'rolled').length - rolledBefore).toBe(2);
    expect((await get(listen)).body).toBe('hey from web ok (green)\n');
    expect((await runtime.list()).filter((t) => t.color === 'green' && !t.worker)).toHaveLength(2);
  });

  it('cancels a roll stuck in a long health gate when a newer commit arrives; the old targets serve until the newer one rolls in', async () => {
    await settle({ active: 'green', greeting: { blue: 'hello', green: 'hey' } });
    const load = startLoad(listen);
    const stuck = repo.commit('web: green 3 (never healthy, 10m start timeout)', { 'apps/web.yaml': yaml({ active: 'green', greenImage: testImages().sick, greeting: { blue: 'hello', green: 'hey' }, startTimeout: '10m' }) });
    await until('the stuck roll to start', async () => ((await runtime.list()).some((t) => t.color === 'green' && t.commit === stuck) ? true : undefined));
    const fix = repo.commit('web: green 3, fixed', { 'apps/web.yaml': yaml({ active: 'green', greeting: { blue: 'hello', green: 'hey again' } }) });
    await until('the fix to go live', async () => ((await agent.status()).apps.web?.lastAppliedCommit === fix ? true : undefined));
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(counts.byColor.blue ?? 0).toBe(0);
    expect(agent.logs.some((l) => l.msg === 'a newer commit supersedes the work in progress' && l.commit === stuck && l.newer === fix)).toBe(true);
    const history = await (await fetch(`${agent.apiUrl}/history?app=web`)).json() as { commit: string }[];
    expect(history.filter((e) => e.commit === stuck)).toEqual([]);
    expect((await get(listen)).body).toBe('hey again from web ok (green)\n');
    const green = (await runtime.list()).filter((t) => t.color === 'green' && !t.worker);
    expect(green.map((t) => [t.commit, t.running])).toEqual([[fix, true], [fix, true]]);
  });

  it('cancels a flip stuck in a long health gate when a newer commit arrives (supersede)', async () => {
    await settle({ active: 'green' });
    const load = startLoad(listen);
    // Blue would be gated for up to ten minutes: only a cancellation lets the fix below go live sooner.
    const stuck = repo.commit('web: blue 4 (never healthy, 10m start timeout)', { 'apps/web.yaml': yaml({ active: 'blue', blueImage: testImages().sick, startTimeout: '10m' }) });
    await until('the stuck flip to start', () => (agent.logs.some((l) => l.msg === 'reconciling' && l.commit === stuck) ? true : undefined));
    const fix = repo.commit('web: blue 4, fixed', { 'apps/web.yaml': yaml({ active: 'blue', greeting: { blue: 'fixed', green: 'hey' } }) });
    await until('the fix to go live', async () => ((await agent.status()).apps.web?.lastAppliedCommit === fix ? true : undefined));
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(agent.logs.some((l) => l.msg === 'a newer commit supersedes the work in progress' && l.commit === stuck && l.newer === fix)).toBe(true);
    const history = await (await fetch(`${agent.apiUrl}/history?app=web`)).json() as { commit: string; result: string }[];
    expect(history.filter((e) => e.commit === stuck)).toEqual([]);
    expect((await get(listen)).body).toBe('fixed from web ok (blue)\n');
  });
});
