// Self-heal on real Docker: the agent polls only once an hour here, so a repair can only come from the
// Docker event it watches. A killed target is replaced, and no request through the proxy fails.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDocker, DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { startAgent, tearDown, type AgentProcess } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/backend.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { get, startLoad } from '../support/load.js';
import { instanceName, stateDir as newStateDir, testImages, until } from '../support/run.js';

describe('self-heal from Docker events', () => {
  const instance = instanceName();
  const stateDir = newStateDir();
  const runtime = new DockerRuntime(connectDocker(), instance);
  let repo: TestRepo;
  let server: GitServer;
  let agent: AgentProcess;
  let listen: number;

  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    listen = await freePort();
    repo.commit('web', { 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok, replicas: 2 }).replace(/replicas: 2\n(\s+env:\n\s+GREETING: hi)/, 'replicas: 0\n$1') });
    agent = await startAgent(['--repo', `${server.url}/desired.git`, '--interval', '1h', '--instance', instance, '--state-dir', stateDir]);
    await until('blue to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('(blue)') ? true : undefined));
  });
  afterAll(() => tearDown({ agent, stateDir, instance, server, repo, runtime }));

  it('replaces a killed target at once, with no failed request', async () => {
    const [victim, survivor] = (await runtime.list()).filter((t) => t.running).sort((a, b) => a.replica - b.replica);
    const load = startLoad(listen);
    await until('traffic', () => (load.counts.ok >= 100 ? true : undefined));
    execFileSync('docker', ['update', '--restart=no', victim!.id]);
    execFileSync('docker', ['kill', victim!.id]);
    const healed = await until('a replacement to serve', async () => {
      const running = (await runtime.list()).filter((t) => t.running);
      const status = (await agent.status()).apps.web;
      const routed = status?.targets.blue.filter((t) => t.routed).map((t) => t.id) ?? [];
      return running.length === 2 && !running.some((t) => t.id === victim!.id) && routed.length === 2 ? running : undefined;
    });
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(healed.map((t) => t.id)).toContain(survivor!.id);
    expect(agent.logs.some((l) => l.msg === 'container event: reconciling now' && l.event === 'die')).toBe(true);
    expect(agent.logs.some((l) => l.msg === 'dead targets left the route')).toBe(true);
  });
});
