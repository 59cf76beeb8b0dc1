// The agent's container image, built offline by packaging/build-image.sh, runs the real CLI: it validates
// a mounted repository, and runs the agent itself with the Docker socket and a state volume, serving the
// example app on the host's loopback.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { TEST_LABEL } from '../support/docker-cli.js';
import { TestRepo } from '../support/git-server.js';
import { get } from '../support/load.js';
import { freePort } from '../support/ports.js';
import { instanceName, testImages, until } from '../support/run.js';

const run = promisify(execFile);

describe('agent container image', () => {
  const tag = `switchyard-test/agent:${inject('runId')}`;
  const label = `${TEST_LABEL}=${inject('runId')}`;
  const instance = instanceName();
  const volume = `${instance}-state`;
  const container = `${instance}-agent`;
  let repo: TestRepo | undefined;
  beforeAll(async () => {
    // dist/ was built by the global setup; other tests run the CLI from it meanwhile.
    const built = await run('bash', ['packaging/build-image.sh', tag], { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, SWITCHYARD_DIST_READY: '1' } });
    expect(built.stdout.trim().split('\n').pop()).toBe(tag);
  }, 300_000);
  afterAll(async () => {
    await run('docker', ['rm', '-f', container]).catch(() => undefined);
    const runtime = new DockerRuntime(connectDocker(), instance);
    for (const t of await runtime.list()) await runtime.remove(t.id);
    await run('docker', ['volume', 'rm', '-f', volume]).catch(() => undefined);
    await run('docker', ['rmi', '-f', tag]).catch(() => undefined);
    repo?.remove();
  });

  it('runs the CLI without a registry, validating a repository mounted into it', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };
    expect((await run('docker', ['run', '--rm', tag, '--version'])).stdout).toBe(`${version}\n`);
    const validated = await run('docker', ['run', '--rm', '-v', `${resolve('example-repo')}:/repo:ro`, tag, 'validate', '/repo']);
    expect(validated.stdout).toBe('ok: 2 app(s) valid (hello, shop)\n');
  });

  it('runs the agent with the Docker socket and a state volume, and serves the example app', async () => {
    // The example app as committed, on a port of this test's own and with this run's build of its image.
    const listen = await freePort();
    const hello = readFileSync('example-repo/apps/hello.yaml', 'utf8')
      .replace(/^listen: 8080\b/m, `listen: ${listen}`)
      .replace(/image: switchyard-example\/hello:1\.[01]/g, `image: ${testImages().ok}`);
    repo = new TestRepo();
    repo.commit('hello: first deploy', { 'apps/hello.yaml': hello });
    await run('docker', ['volume', 'create', '--label', label, volume]);
    await run('docker', [
      'run', '-d', '--name', container, '--label', label, '--network', 'host',
      '-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${volume}:/var/lib/switchyard`, '-v', `${repo.bare}:/repo:ro`,
      tag, 'run', '--repo', '/repo', '--branch', 'main', '--interval', '1s', '--instance', instance, '--api', '127.0.0.1:0',
    ]);
    const answer = await until('the agent in its container to serve hello', async () => {
      const r = await get(listen).catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    }, 120_000);
    expect(answer).toBe('hello from hello ok (blue)\n');
    const runtime = new DockerRuntime(connectDocker(), instance);
    expect((await runtime.list()).filter((t) => t.running).map((t) => `${t.color}${t.replica}`).sort()).toEqual(['blue0', 'blue1', 'green0', 'green1']);
    // The state (last good commit, journal, routes) is in the volume, not in the container.
    const files = await run('docker', ['run', '--rm', '-v', `${volume}:/state:ro`, '--entrypoint', '/usr/bin/node', tag, '-e', 'console.log(require("fs").readdirSync("/state", { recursive: true }).join("\\n"))']);
    expect(files.stdout.split('\n')).toEqual(expect.arrayContaining([`${instance}.last-good.json`, `${instance}.journal.jsonl`]));
  });
});
