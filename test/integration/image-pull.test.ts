// Pulling a missing image, from a real registry (Debian's docker-registry) on 127.0.0.1.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { registryOf } from '../../src/adapters/docker/images.js';
import type { TargetSpec } from '../../src/core/target.js';
import { freePort } from '../support/ports.js';
import { instanceName, testImages, until } from '../support/run.js';
import { color } from '../support/specs.js';

describe('image pull', () => {
  const instance = instanceName();
  const runtime = new DockerRuntime(connectDocker(), instance);
  const dir = mkdtempSync(join(tmpdir(), 'sy-registry-'));
  let registry: ChildProcess;
  let ref = '';
  const spec = (image: string): TargetSpec => {
    const { replicas: _r, envFiles: _f, ...container } = color(image, 1);
    return { ...container, app: 'web', color: 'blue', replica: 0, specHash: 'pull0123456789ab', commit: 'c', env: {}, port: 8080 };
  };

  beforeAll(async () => {
    const port = await freePort();
    const config = join(dir, 'config.yml');
    writeFileSync(config, `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }\nhttp: { addr: 127.0.0.1:${port} }\n`);
    registry = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    await until('the registry to answer', async () => ((await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined))?.ok ? true : undefined));
    ref = `127.0.0.1:${port}/switchyard-test/hello:${inject('runId')}`;
    execFileSync('docker', ['tag', testImages().ok, ref]);
    execFileSync('docker', ['push', ref], { stdio: 'ignore' });
    execFileSync('docker', ['rmi', ref], { stdio: 'ignore' });
  });
  afterAll(async () => {
    for (const t of await runtime.list()) await runtime.remove(t.id);
    execFileSync('docker', ['rmi', '-f', ref], { stdio: 'ignore' });
    registry?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pulls an image that is not on the host, then runs it', async () => {
    expect(() => execFileSync('docker', ['image', 'inspect', ref], { stdio: 'ignore' })).toThrow();
    const t = await runtime.create(spec(ref));
    expect(t.running).toBe(true);
    await until('the pulled target to answer', async () => ((await fetch(`http://127.0.0.1:${t.address!.port}/healthz`).catch(() => undefined))?.ok ? true : undefined));
    await runtime.remove(t.id);
  });

  it('says why when the image cannot be pulled, and leaves nothing behind', async () => {
    const missing = `${ref.split('/')[0]}/switchyard-test/absent:nope`;
    await expect(runtime.create(spec(missing))).rejects.toMatchObject({
      code: 'ImagePullFailed',
      message: expect.stringMatching(/cannot pull image ".*absent:nope" for web\/blue/),
      hint: expect.stringMatching(/registries in the agent config/),
    });
    const unreachable = `127.0.0.1:${await freePort()}/x/y:1`;
    await expect(runtime.create(spec(unreachable))).rejects.toMatchObject({ code: 'ImagePullFailed' });
    expect(await runtime.list()).toEqual([]);
  });

  it('cuts a pull that makes no progress (a registry that stalls), and says so', async () => {
    // Answers the version check, then holds every other request: the manifest never comes.
    const held: ServerResponse[] = [];
    const stalling = createServer((req, res) => {
      if (req.url === '/v2/') res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0', 'content-type': 'application/json' }).end('{}');
      else held.push(res);
    });
    await new Promise<void>((r) => stalling.listen(0, '127.0.0.1', r));
    const image = `127.0.0.1:${(stalling.address() as { port: number }).port}/switchyard-test/stalled:1`;
    const impatient = new DockerRuntime(connectDocker(), instance, { pullIdleTimeoutMs: 500 });
    try {
      await expect(impatient.create(spec(image))).rejects.toMatchObject({ code: 'ImagePullFailed', message: expect.stringMatching(/stalled:1" for web\/blue: no progress for 500 ms/) });
      expect(held.length).toBeGreaterThan(0);
      expect(await runtime.list()).toEqual([]);
    } finally {
      stalling.closeAllConnections();
      stalling.close();
    }
  });

  it('knows which registry an image comes from', () => {
    expect(registryOf('nginx:1')).toBe('docker.io');
    expect(registryOf('library/nginx')).toBe('docker.io');
    expect(registryOf('registry.example.com/team/app:2')).toBe('registry.example.com');
    expect(registryOf('localhost:5000/app')).toBe('localhost:5000');
  });
});
