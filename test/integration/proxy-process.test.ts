// The standalone proxy process, for real: started by the launcher, driven over its control socket.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { ensureProxy } from '../../src/adapters/dataplane/proxy-launcher.js';
import { RemoteRouter } from '../../src/adapters/dataplane/remote-router.js';
import type { AppRoute } from '../../src/core/route.js';
import { stopProxy } from '../support/agent-process.js';
import { startBackend, type Backend } from '../support/backend.js';
import { freePort } from '../support/ports.js';
import { get } from '../support/load.js';
import { instanceName, processGone, stateDir as newStateDir, until } from '../support/run.js';

describe('proxy process', () => {
  const instance = instanceName();
  let dir: string;
  let backend: Backend;
  let route: AppRoute;
  beforeAll(async () => {
    dir = newStateDir();
    backend = await startBackend('blue-0', 'blue');
    route = { app: 'web', listen: { host: '127.0.0.1', port: await freePort() }, color: 'blue', targets: [backend.target], drainTimeoutMs: 1000 };
  });
  afterAll(async () => {
    await stopProxy(dir, instance);
    await backend.close();
  });

  it('is started once, then adopted; its control socket is for its owner only; it inherits none of the agent\'s secrets', async () => {
    // The agent's environment holds its secrets; the long-lived proxy must not.
    Object.assign(process.env, { SWITCHYARD_WEBHOOK_SECRET: 'hook-s3cret', SWITCHYARD_GIT_PASSWORD: 'git-s3cret', SWITCHYARD_API_TOKEN: 'api-s3cret', SY_TEST_HARMLESS: 'kept' });
    const first = await ensureProxy(dir, instance, systemClock);
    for (const k of ['SWITCHYARD_WEBHOOK_SECRET', 'SWITCHYARD_GIT_PASSWORD', 'SWITCHYARD_API_TOKEN', 'SY_TEST_HARMLESS']) delete process.env[k];
    const environ = readFileSync(`/proc/${first.info.pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain('SY_TEST_HARMLESS=kept');
    expect(environ.join('\n')).not.toMatch(/s3cret/);
    const second = await ensureProxy(dir, instance, systemClock);
    expect(first.started).toBe(true);
    expect(second).toMatchObject({ started: false, info: { pid: first.info.pid } });
    expect(statSync(first.socket).mode & 0o777).toBe(0o600);
  });

  it('serves what it is told over the socket, and hands errors back with their code', async () => {
    const { socket } = await ensureProxy(dir, instance, systemClock);
    const router = new RemoteRouter(socket);
    await router.apply(route);
    expect(await router.routes()).toEqual([route]);
    expect((await get(route.listen!.port)).body).toBe('blue-0');
    expect(await router.counters('web')).toMatchObject({ blue: { requests: 1 } });
    expect(await router.traffic()).toMatchObject({ web: { blue: { requests: 1 } } });
    await expect(router.apply({ ...route, app: 'other' })).rejects.toMatchObject({ code: 'PortInUse', hint: expect.stringMatching(/another process/) });
  });

  it('comes back after a crash (SIGKILL) serving its last routes before anyone re-applies them', async () => {
    const { info } = await ensureProxy(dir, instance, systemClock);
    process.kill(info.pid, 'SIGKILL');
    await processGone('the old proxy to be gone', info.pid);
    const restarted = await ensureProxy(dir, instance, systemClock);
    expect(restarted.started).toBe(true);
    expect(restarted.info.pid).not.toBe(info.pid);
    expect((await get(route.listen!.port)).body).toBe('blue-0');
  });

  it('fails a control call, instead of waiting forever, while the proxy is stopped (SIGSTOP), and works again after SIGCONT', async () => {
    const { socket, info } = await ensureProxy(dir, instance, systemClock);
    const router = new RemoteRouter(socket, { timeoutMs: 300 });
    process.kill(info.pid, 'SIGSTOP');
    try {
      await expect(router.routes()).rejects.toMatchObject({ code: 'RouteFailed', retry: 'transient', message: expect.stringMatching(/did not answer GET \/routes within 300 ms/) });
    } finally {
      process.kill(info.pid, 'SIGCONT');
    }
    expect(await router.routes()).toEqual([route]);
  });

  it('says clearly when no proxy answers', async () => {
    const nowhere = new RemoteRouter(`${dir}/nobody.sock`);
    await expect(nowhere.routes()).rejects.toMatchObject({ code: 'RouteFailed', retry: 'transient', hint: expect.stringMatching(/switchyard proxy/) });
  });

  it('`switchyard proxy --stop` lets a request in flight finish before the proxy exits', async () => {
    const { socket, info } = await ensureProxy(dir, instance, systemClock);
    await new RemoteRouter(socket).apply(route);
    const hits = backend.hits;
    const slow = get(route.listen!.port, undefined, '/slow');
    await until('the slow request to reach the backend', () => (backend.hits > hits ? true : undefined));
    const stop = spawnSync(process.execPath, ['bin/switchyard.js', 'proxy', '--stop', '--state-dir', dir, '--instance', instance], { encoding: 'utf8' });
    expect(stop.status).toBe(0);
    expect(stop.stdout).toMatch(/is draining and will exit/);
    // Still draining: the process waits for the request it holds.
    expect(() => process.kill(info.pid, 0)).not.toThrow();
    backend.release();
    expect(await slow).toMatchObject({ status: 200, body: 'blue-0' });
    await processGone('the proxy to exit after its drain', info.pid);
  });
});
