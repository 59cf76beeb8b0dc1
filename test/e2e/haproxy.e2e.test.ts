// End to end with the HAProxy driver: the real agent process drives a real HAProxy. Flips and an agent
// killed with SIGKILL fail no request; HAProxy is adopted by the next agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { HaproxyRouter, haproxyPaths } from '../../src/adapters/haproxy/haproxy-router.js';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { commitLive, startAgent, type AgentProcess } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { get, startLoad } from '../support/load.js';
import { instanceName, stateDir as newStateDir, testImages, until } from '../support/run.js';

describe('switchyard end to end with the haproxy router', () => {
  const instance = instanceName();
  const runtime = new DockerRuntime(connectDocker(), instance);
  const stateDir = newStateDir();
  let repo: TestRepo;
  let server: GitServer;
  let listen: number;
  let agent: AgentProcess;
  const yaml = (active: 'blue' | 'green') => appYaml({ listen, active, blueImage: testImages().ok, greenImage: testImages().ok, replicas: 2 });
  const args = () => ['--repo', `${server.url}/desired.git`, '--interval', '300ms', '--instance', instance, '--state-dir', stateDir, '--router', 'haproxy'];
  const serving = (color: string) =>
    until(`${color} to serve`, async () => {
      const r = await get(listen).catch(() => undefined);
      return r?.status === 200 && r.body.includes(`(${color})`) ? true : undefined;
    });

  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    listen = await freePort();
    repo.commit('web: blue', { 'apps/web.yaml': yaml('blue') });
    agent = await startAgent(args());
  });
  afterAll(async () => {
    await agent?.stop();
    await new HaproxyRouter(haproxyPaths(stateDir, instance), systemClock).shutdown().catch(() => undefined);
    await server?.close();
    repo?.remove();
    for (const t of await runtime.list()) await runtime.remove(t.id);
  });

  it('serves blue through HAProxy, then flips to green under load with zero failed requests', async () => {
    await serving('blue');
    const load = startLoad(listen);
    const flip = repo.commit('web: flip to green', { 'apps/web.yaml': yaml('green') });
    await until('green to take the traffic', () => ((load.counts.byColor.green ?? 0) >= 100 ? true : undefined));
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    await until('the flip to be reported', async () => ((await agent.status()).apps.web?.lastAppliedCommit === flip ? true : undefined));
  });

  it('fails no request while the agent is killed with SIGKILL, and the next agent adopts HAProxy', async () => {
    await commitLive(agent, repo, { 'apps/web.yaml': yaml('green') }, ['web'], 'web: baseline (green)');
    const load = startLoad(listen);
    await until('traffic', () => (load.counts.ok >= 100 ? true : undefined));
    await agent.stop('SIGKILL');
    const whileDead = load.counts.ok;
    await until('traffic with no agent', () => (load.counts.ok >= whileDead + 200 ? true : undefined));
    agent = await startAgent(args());
    expect(agent.logs.find((l) => l.msg === 'switchyard agent started')).toMatchObject({ router: 'haproxy', proxyAdopted: true });
    // activeColor is set as a pass starts: wait for a whole pass of the new agent, load still running.
    await until('the new agent to complete a pass', async () => {
      const s = await agent.status();
      return s.lastSuccessAt !== undefined && s.passRunningSince === undefined && s.apps.web?.activeColor === 'green' ? true : undefined;
    });
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(counts.byColor).toEqual({ green: counts.ok });
    expect(agent.logs.filter((l) => l.msg === 'route switched' || l.msg === 'targets created')).toEqual([]);
  });

  it('rolls back with git revert', async () => {
    if (!agent.running()) agent = await startAgent(args());
    await commitLive(agent, repo, { 'apps/web.yaml': yaml('blue') }, ['web'], 'web: baseline (blue)');
    const flip = repo.commit('web: flip to green', { 'apps/web.yaml': yaml('green') });
    await until('the flip to be applied', async () => ((await agent.status()).apps.web?.lastAppliedCommit === flip ? true : undefined));
    repo.git('revert', '--no-edit', 'HEAD');
    repo.push();
    await serving('blue');
  });
});
