// dockerd restarts in the middle of a deploy (a package upgrade, a crash): the agent waits, reconnects and
// converges on the commit. The test runs its own engine (test/support/private-dockerd.ts), so stopping it
// touches nothing else. Without live-restore the engine stops every container when it goes down and its
// restart policy starts them again, on new ports: the route must follow them through the gate.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { startAgent, tearDown, type AgentProcess } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { get } from '../support/load.js';
import { runStateRoot } from '../support/paths.js';
import { PrivateDockerd } from '../support/private-dockerd.js';
import { instanceName, stateDir as newStateDir, testImages, until } from '../support/run.js';

describe('dockerd restarts in the middle of a deploy', () => {
  const instance = instanceName();
  const stateDir = newStateDir();
  let dockerd: PrivateDockerd;
  let runtime: DockerRuntime;
  let repo: TestRepo;
  let server: GitServer;
  let agent: AgentProcess;
  let listen: number;

  beforeAll(async () => {
    const runId = inject('runId');
    dockerd = await PrivateDockerd.start(join(runStateRoot(runId), 'dockerd'), runId);
    dockerd.load(testImages().ok);
    runtime = new DockerRuntime(connectDocker({ DOCKER_HOST: `unix://${dockerd.socket}` }), instance);
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    listen = await freePort();
    repo.commit('blue', { 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok, startTimeout: '60s' }) });
    agent = await startAgent(['--repo', `${server.url}/desired.git`, '--interval', '500ms', '--instance', instance, '--state-dir', stateDir], { DOCKER_HOST: dockerd.host });
    await until('blue to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('(blue)') ? true : undefined));
  });
  afterAll(async () => {
    if (runtime) await tearDown({ agent, stateDir, instance, server, repo, runtime });
    await dockerd?.destroy();
  });

  it('waits while the engine is away, reconnects, and converges on the commit', async () => {
    // Green's new target takes 3 s to start serving: the engine goes down while it is in the gate.
    const slowGreen = appYaml({ listen, active: 'green', blueImage: testImages().ok, greenImage: testImages().ok, greeting: { green: 'after the restart' }, startTimeout: '60s' })
      .replace(/(  green:\n)/, `$1    command: ["/bin/busybox", "sh", "-c", "/bin/busybox sleep 3; exec /bin/busybox httpd -f -p 8080 -h /www"]\n`);
    const logsBefore = agent.logs.length;
    repo.commit('flip to a slow green', { 'apps/web.yaml': slowGreen });
    await until('the new green target in its gate', () => (agent.logs.slice(logsBefore).some((l) => l.msg === 'targets created' && l.app === 'web') ? true : undefined));
    await dockerd.down();
    const away = agent.logs.length;
    // What the agent says when the engine is gone: its gate's or its listing's DockerUnavailable.
    const noticed = (l: Record<string, unknown>) => l.reason === 'DockerUnavailable' || l.msg === 'cannot observe live state; retrying next pass';
    await until('the agent to say the engine is away', () => (agent.logs.slice(away).some(noticed) ? true : undefined));
    await dockerd.up();

    await until('green to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('after the restart') ? true : undefined), 60_000);
    const web = await until('web to be Ready', async () => {
      const s = (await agent.status()).apps.web;
      return s?.conditions.find((c) => c.type === 'Ready')?.status === 'True' ? s : undefined;
    });
    expect(agent.proc.exitCode).toBeNull();
    expect(web.activeColor).toBe('green');
    // Converged with no orphan: one target per color, running, and only green's routed.
    const targets = await runtime.list();
    expect(targets.map((t) => `${t.color}:${t.state}`).sort()).toEqual(['blue:running', 'green:running']);
    expect([...web.targets.blue, ...web.targets.green].filter((t) => t.routed).map((t) => t.id)).toEqual([targets.find((t) => t.color === 'green')!.id.slice(0, 12)]);
  });
});
