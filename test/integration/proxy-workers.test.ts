// A proxy of two worker processes (`switchyard proxy --workers 2`), for real: the same listen sockets in
// both, route changes in force in both before they return, drains over both, a dead worker replaced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { ensureProxy } from '../../src/adapters/dataplane/proxy-launcher.js';
import { controlAnswers } from '../../src/adapters/dataplane/proxy-control.js';
import { RemoteRouter } from '../../src/adapters/dataplane/remote-router.js';
import type { AppRoute } from '../../src/core/route.js';
import { stopProxy } from '../support/agent-process.js';
import { startBackend, type Backend } from '../support/backend.js';
import { freePort } from '../support/ports.js';
import { get, keptAliveThroughFlip, startLoad } from '../support/load.js';
import { instanceName, processGone, stateDir as newStateDir, until } from '../support/run.js';

describe('proxy with two workers', () => {
  const instance = instanceName();
  let dir: string;
  let blue: Backend;
  let green: Backend;
  let router: RemoteRouter;
  let socket: string;
  let port: number;
  const route = (color: 'blue' | 'green'): AppRoute => ({ app: 'web', listen: { host: '127.0.0.1', port }, color, targets: [(color === 'blue' ? blue : green).target], drainTimeoutMs: 5000 });
  const workers = async () => (await controlAnswers(socket))?.workers ?? [];
  /** Runs `fn` with every worker but `pid` stopped (SIGSTOP): only `pid` can accept a connection meanwhile. */
  const onlyWorker = async <T>(pid: number, fn: () => Promise<T>): Promise<T> => {
    const others = (await workers()).filter((p) => p !== pid);
    for (const p of others) process.kill(p, 'SIGSTOP');
    try {
      return await fn();
    } finally {
      for (const p of others) process.kill(p, 'SIGCONT');
    }
  };

  beforeAll(async () => {
    dir = newStateDir();
    [blue, green, port] = await Promise.all([startBackend('blue-0', 'blue'), startBackend('green-0', 'green'), freePort()]);
    const started = await ensureProxy(dir, instance, systemClock, { workers: 2 });
    socket = started.socket;
    router = new RemoteRouter(socket);
  });
  afterAll(async () => {
    const pids = await workers();
    await stopProxy(dir, instance);
    for (const pid of pids) await processGone('a proxy worker to exit', pid);
    await Promise.all([blue.close(), green.close()]);
  });

  it('serves the app from each worker on its own, and counts the requests of both as one proxy', async () => {
    const pids = await workers();
    expect(pids).toHaveLength(2);
    await router.apply(route('blue'));
    for (const pid of pids) {
      // Fresh connections, each accepted by the one worker that runs.
      const bodies = await onlyWorker(pid, () => Promise.all(Array.from({ length: 5 }, () => get(port).then((r) => r.body))));
      expect(bodies).toEqual(Array(5).fill('blue-0'));
    }
    const load = startLoad(port, 8, 300);
    await until('300 answers', () => (load.counts.ok + load.counts.failed >= 300 ? true : undefined));
    const counts = await load.stop();
    expect(counts.failed).toBe(0);
    expect(counts.ok).toBeGreaterThanOrEqual(300);
    expect((await router.counters('web')).blue?.requests).toBe(2 * 5 + counts.ok);
  });

  it('flips under kept-alive load: no request fails, and none sent after apply() returned reaches blue', async () => {
    await router.apply(route('blue'));
    const results = await keptAliveThroughFlip(port, () => router.apply(route('green')));
    expect(results.failed).toBe(0);
    expect(results.ok).toBe(20 * 60);
    expect(results.blueAfterSwitch).toBe(0);
    expect(results.greenAfterSwitch).toBeGreaterThan(0);
  });

  it('drains over every worker: a slow request on the old color holds the drain until it ends', async () => {
    await router.apply(route('blue'));
    const hitsBefore = blue.hits;
    const slow = get(port, undefined, '/slow');
    await until('the slow request to reach blue', () => (blue.hits > hitsBefore ? true : undefined), 60_000, 1);
    await router.apply(route('green'));
    expect(await router.drain([blue.target.id], 200)).toBe(1);
    blue.release();
    expect(await router.drain([blue.target.id], 5000)).toBe(0);
    expect(await slow).toMatchObject({ status: 200, body: 'blue-0' });
  });

  it('replaces a worker that dies; the new one serves the current table', async () => {
    await router.apply(route('green'));
    const [killed, kept] = await workers();
    process.kill(killed!, 'SIGKILL');
    await processGone('the killed worker to be gone', killed!);
    const now = await until('a new worker', async () => {
      const pids = await workers();
      return pids.length === 2 && !pids.includes(killed!) ? pids : undefined;
    });
    const fresh = now.find((p) => p !== kept)!;
    expect((await onlyWorker(fresh, () => get(port))).body).toBe('green-0');
    expect(await router.routes()).toEqual([route('green')]);
  });

  it('kills and replaces a worker that does not answer (SIGSTOP); the change is in force in the others meanwhile', async () => {
    await router.apply(route('green'));
    const [stopped, kept] = await workers();
    process.kill(stopped!, 'SIGSTOP');
    await router.apply(route('blue'));
    await processGone('the stopped worker to be killed', stopped!);
    expect((await onlyWorker(kept!, () => get(port))).body).toBe('blue-0');
    const now = await until('a new worker', async () => {
      const pids = await workers();
      return pids.length === 2 && !pids.includes(stopped!) ? pids : undefined;
    });
    expect((await onlyWorker(now.find((p) => p !== kept)!, () => get(port))).body).toBe('blue-0');
  });

  it('takes its workers down when it is killed (SIGKILL), and comes back serving its saved table', async () => {
    await router.apply(route('green'));
    const before = await controlAnswers(socket);
    process.kill(before!.pid, 'SIGKILL');
    for (const pid of [before!.pid, ...before!.workers!]) await processGone('the killed proxy and its workers to be gone', pid);
    const again = await ensureProxy(dir, instance, systemClock, { workers: 2 });
    expect(again.info.workers).toHaveLength(2);
    for (const pid of again.info.workers!) expect((await onlyWorker(pid, () => get(port))).body).toBe('green-0');
  });

  it('refuses a port another app serves on, as one process would', async () => {
    await expect(router.apply({ ...route('blue'), app: 'other' })).rejects.toMatchObject({ code: 'PortInUse', message: expect.stringMatching(/app "web" serves there/) });
    expect((await router.routes()).map((r) => r.app)).toEqual(['web']);
  });
});
