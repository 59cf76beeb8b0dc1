import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import type { TargetSpec } from '../../src/core/target.js';
import { TEST_LABEL } from '../support/docker-cli.js';
import { instanceName, testImages, until } from '../support/run.js';
import { color } from '../support/specs.js';
import { inject } from 'vitest';

describe('docker runtime (real engine, API 1.41)', () => {
  const instance = instanceName();
  const runtime = new DockerRuntime(connectDocker(), instance);
  let stranger = '';
  const spec = (over: Partial<TargetSpec> = {}): TargetSpec => {
    const { replicas: _r, envFiles: _f, ...container } = color(testImages().ok, 1);
    return {
      ...container, app: 'web', color: 'blue', replica: 0, specHash: 'abcdef0123456789', commit: 'c0ffee',
      env: { GREETING: 'howdy', SWITCHYARD_APP: 'web', SWITCHYARD_COLOR: 'blue' }, port: 8080, ...over,
    };
  };

  beforeAll(() => {
    // A container this agent does not own: same image, no instance label. It must never be touched.
    stranger = execFileSync('docker', ['run', '-d', '--label', `${TEST_LABEL}=${inject('runId')}`, testImages().ok], { encoding: 'utf8' }).trim();
  });
  afterAll(() => {
    execFileSync('docker', ['rm', '-f', stranger]);
  });

  it('creates a labelled target published on 127.0.0.1 at an ephemeral port, and it serves', async () => {
    const t = await runtime.create(spec());
    expect(t).toMatchObject({ app: 'web', color: 'blue', replica: 0, specHash: 'abcdef0123456789', commit: 'c0ffee', running: true });
    expect(t.address?.host).toBe('127.0.0.1');
    expect(t.address?.port).toBeGreaterThan(1024);
    const bindings = JSON.parse(execFileSync('docker', ['inspect', '-f', '{{json .HostConfig.PortBindings}}', t.id], { encoding: 'utf8' }));
    expect(bindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    const body = await until('the target to answer', async () => {
      const res = await fetch(`http://127.0.0.1:${t.address!.port}/`).catch(() => undefined);
      return res?.ok ? res.text() : undefined;
    });
    expect(body).toBe('howdy from web ok (blue)\n');
    await runtime.remove(t.id);
  });

  it('lists only its own instance, adopts them by label, and never lists a stranger', async () => {
    const mine = await runtime.create(spec({ replica: 1 }));
    const other = new DockerRuntime(connectDocker(), `${instance}-other`);
    const theirs = await other.create(spec({ replica: 1 }));
    const listed = await runtime.list();
    expect(listed.map((t) => t.id)).toEqual([mine.id]);
    // Listing sees what inspect sees, but for the restart count and exit code (inspect only).
    const { restarts, exitCode, ...listable } = mine;
    expect(listed[0]).toEqual(listable);
    expect([restarts, exitCode]).toEqual([0, 0]);
    expect(listed.some((t) => t.id === stranger || t.id === theirs.id)).toBe(false);
    expect(await runtime.inspect(theirs.id)).toBeUndefined();
    await runtime.remove(mine.id);
    await other.remove(theirs.id);
    expect(execFileSync('docker', ['inspect', '-f', '{{.State.Running}}', stranger], { encoding: 'utf8' }).trim()).toBe('true');
  });

  it('removes idempotently: a target that is already gone counts as removed', async () => {
    const t = await runtime.create(spec({ replica: 2 }));
    await runtime.remove(t.id);
    expect(await runtime.inspect(t.id)).toBeUndefined();
    await expect(runtime.remove(t.id)).resolves.toBeUndefined();
    expect((await runtime.list()).map((x) => x.id)).not.toContain(t.id);
  });

  it('reports an image it cannot pull with a hint, and leaves nothing behind', async () => {
    // A registry on a closed loopback port: never an address outside this machine.
    const { freePort } = await import('../support/ports.js');
    await expect(runtime.create(spec({ image: `127.0.0.1:${await freePort()}/absent:nope`, replica: 3 }))).rejects.toMatchObject({
      code: 'ImagePullFailed',
      hint: expect.stringMatching(/registries in the agent config/),
    });
    expect(await runtime.list()).toEqual([]);
  });

  it('sees a target that exited as not running, with no address', async () => {
    const t = await runtime.create(spec({ replica: 4 }));
    execFileSync('docker', ['update', '--restart=no', t.id]);
    execFileSync('docker', ['kill', t.id]);
    const seen = await until('the target to stop', async () => {
      const s = await runtime.inspect(t.id);
      return s && !s.running ? s : undefined;
    });
    expect(seen.address).toBeUndefined();
    expect(seen.state).toBe('exited');
    await runtime.remove(t.id);
  });

  it('sees a paused target as not running, in the listing and in inspect alike, and removes it', async () => {
    const t = await runtime.create(spec({ replica: 5 }));
    execFileSync('docker', ['pause', t.id]);
    const listed = (await runtime.list()).find((x) => x.id === t.id);
    const inspected = await runtime.inspect(t.id);
    for (const seen of [listed, inspected]) expect(seen).toMatchObject({ running: false, state: 'paused' });
    expect(listed?.address).toBeUndefined();
    expect(inspected?.address).toBeUndefined();
    await runtime.remove(t.id);
    expect(await runtime.inspect(t.id)).toBeUndefined();
  });

  it('says when the OOM killer ended a target at its memory limit, also once Docker has restarted it', async () => {
    // Doubles a string until the 16 MiB limit is hit, twice; then serves.
    const hungry = 'c=0; [ -e /n ] && c=$(/bin/busybox cat /n); echo $((c + 1)) > /n; if [ "$c" -lt 2 ]; then a=0123456789abcdef; while :; do a=$a$a; done; fi; exec /bin/busybox httpd -f -p 8080 -h /www';
    const base = spec({ replica: 6 });
    const t = await runtime.create({ ...base, resources: { ...base.resources, memoryBytes: 16 * 1024 * 1024 }, command: ['/bin/busybox', 'sh', '-c', hungry] });
    const seen = await until('two OOM kills and a restart', async () => {
      const s = await runtime.inspect(t.id);
      return s && (s.restarts ?? 0) >= 2 && s.running ? s : undefined;
    });
    expect(seen.oomKilled).toBe(true);
    await runtime.remove(t.id);
  });

  it('says the engine is unavailable, instead of waiting forever, when it accepts a call and never answers (a hung dockerd)', async () => {
    const dir = mkdtempSync(`${tmpdir()}/sy-hung-`);
    const held: Socket[] = [];
    const hung = createServer((socket) => held.push(socket));
    await new Promise<void>((r) => hung.listen(`${dir}/docker.sock`, r));
    try {
      const stuck = new DockerRuntime(connectDocker({ DOCKER_HOST: `unix://${dir}/docker.sock` }), instance, { readTimeoutMs: 200, actionTimeoutMs: 300 });
      for (const read of [() => stuck.list(), () => stuck.inspect('abc')]) {
        await expect(read()).rejects.toMatchObject({ code: 'DockerUnavailable', retry: 'transient', message: expect.stringMatching(/did not answer within 200 ms/), hint: expect.stringMatching(/hung/) });
      }
      for (const [what, act] of [['create container', () => stuck.create(spec())], ['stop container', () => stuck.remove('abc')]] as const) {
        await expect(act()).rejects.toMatchObject({ code: 'DockerUnavailable', retry: 'transient', message: `cannot ${what}: the Docker engine did not answer within 300 ms` });
      }
    } finally {
      held.forEach((s) => s.destroy());
      hung.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says the engine is unavailable, with what to do, when the socket does not answer', async () => {
    const nowhere = new DockerRuntime(connectDocker({ DOCKER_HOST: "unix:///nonexistent/docker.sock" }), instance);
    await expect(nowhere.list()).rejects.toMatchObject({ code: 'DockerUnavailable', retry: 'transient', hint: expect.stringMatching(/start dockerd/) });
  });

  it('applies command, args, labels, limits and a named volume of the app\'s own; our labels always win', async () => {
    const volume = 'data';
    const t = await runtime.create(spec({
      replica: 5,
      command: ['/bin/busybox', 'httpd'],
      args: ['-f', '-p', '8080', '-h', '/www'],
      labels: { team: 'web', 'dev.switchyard.app': 'spoofed' },
      resources: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5 },
      volumes: [{ name: volume, path: '/data', readOnly: false }],
    }));
    const info = JSON.parse(execFileSync('docker', ['inspect', t.id], { encoding: 'utf8' }))[0];
    expect(info.Config.Entrypoint).toEqual(['/bin/busybox', 'httpd']);
    expect(info.Config.Cmd).toEqual(['-f', '-p', '8080', '-h', '/www']);
    expect(info.Config.Labels).toMatchObject({ team: 'web', 'dev.switchyard.app': 'web' });
    expect(info.HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, Privileged: false });
    // The app's volume is the engine's INSTANCE-web-data, created with the agent's labels.
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: `${instance}-web-data`, Destination: '/data' })]);
    const labels = JSON.parse(execFileSync('docker', ['volume', 'inspect', '-f', '{{json .Labels}}', `${instance}-web-data`], { encoding: 'utf8' }));
    expect(labels).toEqual({ 'dev.switchyard.instance': instance, 'dev.switchyard.app': 'web' });
    await until('the target to answer', async () => ((await fetch(`http://127.0.0.1:${t.address!.port}/healthz`).catch(() => undefined))?.ok ? true : undefined));
    await runtime.remove(t.id);
    execFileSync('docker', ['volume', 'rm', `${instance}-web-data`]);
  });

  it('refuses a volume of that name the agent did not create for the app (a bind of /run made by hand), unless the policy lists it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-vol-'));
    // Made by hand: a "local" volume that is really a bind of a host folder (here a harmless temp folder).
    const made = (name: string) => execFileSync('docker', ['volume', 'create', '--label', `${TEST_LABEL}=${inject('runId')}`, '--driver', 'local', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${root}`, name], { encoding: 'utf8' }).trim();
    made(`${instance}-web-cache`);
    made(`sy-ext-${inject('runId')}`);
    try {
      await expect(runtime.create(spec({ replica: 6, volumes: [{ name: 'cache', path: '/cache', readOnly: false }] }))).rejects.toMatchObject({
        code: 'PolicyDenied',
        message: expect.stringMatching(new RegExp(`volume "cache" of web: the engine already has a volume ${instance}-web-cache that this agent did not create for this app`)),
        hint: expect.stringMatching(/externalVolumes/),
      });
      const listed = new DockerRuntime(connectDocker(), instance, { externalVolumes: [`sy-ext-${inject('runId')}`] });
      const t = await listed.create(spec({ replica: 7, volumes: [{ name: `sy-ext-${inject('runId')}`, path: '/ext', readOnly: true }] }));
      const info = JSON.parse(execFileSync('docker', ['inspect', t.id], { encoding: 'utf8' }))[0];
      expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: `sy-ext-${inject('runId')}`, Destination: '/ext' })]);
      await listed.remove(t.id);
    } finally {
      execFileSync('docker', ['volume', 'rm', `${instance}-web-cache`, `sy-ext-${inject('runId')}`]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
