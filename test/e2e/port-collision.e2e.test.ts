// A listen port held by another process on the host: the app gets a clear status (Stalled, PortInUse,
// which port and what to do), its targets are not churned while it waits, and it is served as soon as
// the port is free again, with no commit and no operator.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDocker, DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { startAgent, tearDown, type AgentProcess } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/backend.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { get } from '../support/load.js';
import { instanceName, stateDir as newStateDir, testImages, until } from '../support/run.js';

describe('a listen port held by another process', () => {
  const instance = instanceName();
  const stateDir = newStateDir();
  const runtime = new DockerRuntime(connectDocker(), instance);
  let repo: TestRepo;
  let server: GitServer;
  let agent: AgentProcess;
  let squatter: Server;
  let listen: number;

  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    listen = await freePort();
    squatter = createServer((s) => s.end('not switchyard\n'));
    await new Promise<void>((resolve) => squatter.listen(listen, '127.0.0.1', resolve));
    repo.commit('web', { 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok }) });
    agent = await startAgent(['--repo', `${server.url}/desired.git`, '--interval', '300ms', '--instance', instance, '--state-dir', stateDir]);
  });
  afterAll(async () => {
    squatter.close();
    await tearDown({ agent, stateDir, instance, server, repo, runtime });
  });

  it('says PortInUse with the port and what to do, keeps its targets while it waits, and serves once the port is free', async () => {
    const stalled = await until('PortInUse', async () => (await agent.status()).apps.web?.conditions.find((c) => c.type === 'Stalled' && c.reason === 'PortInUse'));
    expect(stalled.message).toMatch(new RegExp(`cannot listen on 127.0.0.1:${listen} .*another process holds that port; stop it or change \x60listen\x60`));
    // A few more passes: the same containers, nothing created again.
    const ids = (await runtime.list()).map((t) => t.id).sort();
    const passes = agent.logs.length;
    await until('more passes', () => (agent.logs.slice(passes).filter((l) => l.reason === 'PortInUse').length >= 3 ? true : undefined));
    expect((await runtime.list()).map((t) => t.id).sort()).toEqual(ids);

    await new Promise((resolve) => squatter.close(resolve));
    await until('blue to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('(blue)') ? true : undefined));
    // The route is switched first, then the status says so.
    await until('Ready', async () => ((await agent.status()).apps.web?.conditions.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined));
  });
});
