import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../../src/core/errors.js';
import type { AppRoute } from '../../src/core/route.js';
import { dataPlaneGone, SupervisedRouter } from '../../src/reconciler/data-plane.js';
import { RouteStore } from '../../src/adapters/dataplane/route-store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRouter } from '../support/fakes.js';

const gone = () => new SwitchyardError('RouteFailed', 'the proxy does not answer on /s (ECONNREFUSED)', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });

describe('data plane supervision', () => {
  it('starts a data plane found gone again, once for the calls that found it so, tells it, and makes the call again', async () => {
    const inner = new FakeRouter();
    let down = true;
    const routes = inner.routes.bind(inner);
    inner.routes = async () => {
      if (down) throw gone();
      return routes();
    };
    const restarts: string[] = [];
    const told: string[] = [];
    const router = new SupervisedRouter(inner, async () => {
      restarts.push('start');
      down = false;
    }, (why) => told.push(why));
    expect(await Promise.all([router.routes(), router.routes()])).toEqual([[], []]);
    expect(restarts).toEqual(['start']);
    expect(told).toEqual(['the proxy does not answer on /s (ECONNREFUSED)']);
  });

  it('leaves every other failure to the caller: a busy or refusing data plane is not restarted', async () => {
    const inner = new FakeRouter();
    inner.failNext = new SwitchyardError('RouteFailed', 'HAProxy refused the new configuration');
    let restarts = 0;
    const router = new SupervisedRouter(inner, async () => void restarts++, () => undefined);
    await expect(router.apply({ app: 'web' } as AppRoute)).rejects.toThrow(/refused the new configuration/);
    expect(restarts).toBe(0);
    expect(dataPlaneGone(new SwitchyardError('RouteFailed', 'did not answer within 10000 ms'))).toBe(false);
    expect(dataPlaneGone(gone())).toBe(true);
  });

  it('does not serve a route table saved before the host rebooted (old ports may belong to other containers now)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-routes-'));
    try {
      const path = join(dir, 'routes.json');
      const route = { app: 'web', listen: { host: '127.0.0.1', port: 9000 }, color: 'blue', targets: [], drainTimeoutMs: 1000 } as AppRoute;
      new RouteStore(path, 'boot-1').save([route]);
      expect(new RouteStore(path, 'boot-1').load()).toEqual([route]);
      expect(new RouteStore(path, 'boot-2').load()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
