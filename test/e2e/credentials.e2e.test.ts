// Credentials, on real parts: a git server over smart HTTP and Debian's docker-registry on 127.0.0.1,
// both refusing anyone without a password. The agent takes the git password from its environment and
// the registry's from its config file (`registries`); without them it says which one it lacks, and it
// serves once it has them.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { readyCondition } from '../../src/core/status.js';
import { startAgent, stopProxy, tearDown, type AgentProcess } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { get } from '../support/load.js';
import { freePort } from '../support/ports.js';
import { instanceName, stateDir as newStateDir, testImages, until } from '../support/run.js';

const GIT = { username: 'deploy', password: 'git-secret-7f3a' };
const REGISTRY = { username: 'puller', password: 'registry-secret-91cd' };

describe('git and registry credentials', () => {
  const instance = instanceName();
  // Each test starts from a state dir of its own (what an agent failed is remembered there).
  const stateDirs: string[] = [];
  const newState = () => {
    stateDirs.push(newStateDir());
    return stateDirs.at(-1)!;
  };
  const runtime = new DockerRuntime(connectDocker(), instance);
  const dir = mkdtempSync(join(tmpdir(), 'sy-creds-'));
  let registry: ChildProcess | undefined;
  let server: GitServer;
  let repo: TestRepo;
  let agent: AgentProcess | undefined;
  let registryPort: number;
  let ref = '';
  let listen: number;

  const startRegistry = async (withAuth: boolean) => {
    const config = join(dir, withAuth ? 'auth.yml' : 'open.yml');
    const auth = withAuth ? `auth: { htpasswd: { realm: test, path: ${join(dir, 'htpasswd')} } }\n` : '';
    writeFileSync(config, `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }\nhttp: { addr: 127.0.0.1:${registryPort} }\n${auth}`);
    registry = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    await until('the registry to answer', async () => {
      const r = await fetch(`http://127.0.0.1:${registryPort}/v2/`).catch(() => undefined);
      return r && r.status === (withAuth ? 401 : 200) ? true : undefined;
    });
  };
  const stopRegistry = async () => {
    const r = registry;
    registry = undefined;
    if (!r || r.exitCode !== null) return;
    const gone = new Promise((resolve) => r.once('exit', resolve));
    r.kill();
    await gone;
  };
  const configFile = (stateDir: string, registries: boolean) => {
    const file = join(stateDir, registries ? 'agent-with-registry.yaml' : 'agent.yaml');
    const lines = [`repo: ${server.url}/desired.git`, 'interval: 500ms', `instance: ${instance}`, `stateDir: ${stateDir}`];
    if (registries) lines.push('registries:', `  "127.0.0.1:${registryPort}": { username: ${REGISTRY.username}, password: ${REGISTRY.password} }`);
    writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    return file;
  };

  beforeAll(async () => {
    registryPort = await freePort();
    listen = await freePort();
    // Push while the registry is open (no `docker login`: this machine's Docker config stays as it was),
    // then serve the same storage behind a password.
    await startRegistry(false);
    ref = `127.0.0.1:${registryPort}/switchyard-test/hello:${inject('runId')}-creds`;
    execFileSync('docker', ['tag', testImages().ok, ref]);
    execFileSync('docker', ['push', ref], { stdio: 'ignore' });
    execFileSync('docker', ['rmi', ref], { stdio: 'ignore' });
    await stopRegistry();
    writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-nbB', REGISTRY.username, REGISTRY.password], { encoding: 'utf8' }));
    await startRegistry(true);
    repo = new TestRepo();
    server = await startGitServer(repo.root, GIT);
    repo.commit('web: from the private registry', { 'apps/web.yaml': appYaml({ listen, blueImage: ref, greenImage: ref, replicas: 1 }) });
  });
  afterAll(async () => {
    // tearDown stops the agent and the proxy of the last state dir; the others' proxies first.
    for (const stateDir of stateDirs.slice(0, -1)) await stopProxy(stateDir, instance).catch(() => undefined);
    await tearDown({ agent, stateDir: stateDirs.at(-1) ?? newStateDir(), instance, server, repo, runtime });
    await stopRegistry();
    execFileSync('docker', ['rmi', '-f', ref], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the missing git credentials, then fetches with SWITCHYARD_GIT_USERNAME / _PASSWORD', async () => {
    const stateDir = newState();
    agent = await startAgent(['--config', configFile(stateDir, false)], { SWITCHYARD_GIT_USERNAME: '', SWITCHYARD_GIT_PASSWORD: '' });
    const refused = await until('the fetch to fail', () => agent!.logs.find((l) => l.reason === 'FetchFailed'));
    expect(String(refused.err)).toMatch(/401[\s\S]*SWITCHYARD_GIT_USERNAME \/ SWITCHYARD_GIT_PASSWORD/);
    expect(server.requests.some((r) => r.endsWith(' 401'))).toBe(true);
    expect(server.requests.filter((r) => !r.endsWith(' 401'))).toEqual([]);
    await agent.stop();

    agent = await startAgent(['--config', configFile(stateDir, false)], { SWITCHYARD_GIT_USERNAME: GIT.username, SWITCHYARD_GIT_PASSWORD: GIT.password });
    await until('the commit to be loaded', async () => ((await agent!.status()).desired.commit === repo.git('rev-parse', 'HEAD') ? true : undefined));
    expect(server.requests.some((r) => r.startsWith('POST /desired.git/git-upload-pack') && !r.endsWith(' 401'))).toBe(true);
    // The password is in no log line.
    expect(JSON.stringify(agent.logs)).not.toContain(GIT.password);
    await agent.stop();
  });

  it('names the registry it could not pull from without credentials, then pulls with the config\'s `registries` after a sync', async () => {
    const stateDir = newState();
    const gitEnv = { SWITCHYARD_GIT_USERNAME: GIT.username, SWITCHYARD_GIT_PASSWORD: GIT.password };
    agent = await startAgent(['--config', configFile(stateDir, false)], gitEnv);
    const web = await until('the pull to fail', async () => {
      const app = (await agent!.status()).apps.web;
      return app && readyCondition(app)?.reason === 'ImagePullFailed' ? app : undefined;
    });
    expect(readyCondition(web)?.message).toContain(`127.0.0.1:${registryPort}`);
    expect(() => execFileSync('docker', ['image', 'inspect', ref], { stdio: 'ignore' })).toThrow();
    await agent!.stop();

    // A commit that failed for a reason that needs a human is not retried by a restart: once the
    // credentials are in the config, the operator asks for a retry.
    agent = await startAgent(['--config', configFile(stateDir, true)], gitEnv);
    await until('the new agent to say why the app is held', async () => {
      const app = (await agent!.status()).apps.web;
      return app && readyCondition(app)?.reason === 'ImagePullFailed' && /not retried/.test(readyCondition(app)?.message ?? '') ? true : undefined;
    });
    const sync = spawnSync(process.execPath, ['bin/switchyard.js', 'sync', '--api', new URL(agent.apiUrl).host, '--state-dir', stateDir, '--instance', instance], { encoding: 'utf8' });
    expect(sync.status).toBe(0);
    expect(await until('the app to serve the pulled image', async () => {
      const r = await get(listen).catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    }, 120_000)).toBe('hello from web ok (blue)\n');
    expect(JSON.stringify(agent.logs)).not.toContain(REGISTRY.password);
  });
});
