// The primary's Router over several proxy workers, with workers that are plain objects: when a change
// counts as done, what a failure in one worker leaves, what a (re)joining worker gets, how reads add up.
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../../src/core/errors.js';
import type { AppRoute, ColorCounters } from '../../src/core/route.js';
import { WorkerGone, WorkerPool, type ProxyWorker, type WorkerOp } from '../../src/adapters/dataplane/worker-pool.js';
import { sumCounters } from '../../src/adapters/dataplane/traffic-sum.js';

/** A worker that keeps a table of its own; `hold` makes its next call of that op wait for release(). */
class FakeWorker implements ProxyWorker {
  readonly table = new Map<string, AppRoute>();
  readonly calls: string[] = [];
  readonly challenges = new Map<string, string>();
  failNext: Partial<Record<WorkerOp, Error>> = {};
  failWhen: (op: WorkerOp, args: unknown[]) => Error | undefined = () => undefined;
  answers: Partial<Record<WorkerOp, unknown>> = {};
  discarded = false;
  private held: { op: WorkerOp; release?: () => void } | undefined;
  constructor(readonly id: number) {}

  discard(): void {
    this.discarded = true;
  }

  hold(op: WorkerOp): () => void {
    this.held = { op };
    return () => this.held?.release?.();
  }

  async call(op: WorkerOp, args: unknown[]): Promise<unknown> {
    this.calls.push(op === 'apply' ? `apply ${(args[0] as AppRoute).app}/${(args[0] as AppRoute).color}` : `${op} ${args.join(' ')}`.trim());
    if (this.held?.op === op) {
      const held = this.held;
      await new Promise<void>((resolve) => (held.release = resolve));
      this.held = undefined;
    }
    const failure = this.failNext[op];
    if (failure) {
      delete this.failNext[op];
      throw failure;
    }
    const refused = this.failWhen(op, args);
    if (refused) throw refused;
    if (op === 'apply') this.table.set((args[0] as AppRoute).app, args[0] as AppRoute);
    if (op === 'remove') this.table.delete(args[0] as string);
    if (op === 'answer') this.challenges.set(args[0] as string, args[1] as string);
    return this.answers[op];
  }
}

const route = (app: string, color: 'blue' | 'green', port = 8000): AppRoute => ({ app, listen: { host: '127.0.0.1', port }, color, targets: [{ id: `${app}-${color}`, color, host: '127.0.0.1', port: 9000 }], drainTimeoutMs: 1000 });
const counters = (requests: number, extra: Partial<ColorCounters> = {}): ColorCounters => ({ requests, errors5xx: 0, inFlight: 0, ...extra });
const tick = () => new Promise((r) => setImmediate(r));

async function poolOf(n: number, restored: AppRoute[] = []) {
  const pool = new WorkerPool(restored);
  const workers = Array.from({ length: n }, (_, i) => new FakeWorker(i + 1));
  for (const w of workers) await pool.join(w);
  return { pool, workers };
}

describe('worker pool', () => {
  it('returns from apply only once every worker has the route in force', async () => {
    const { pool, workers } = await poolOf(2);
    const release = workers[1]!.hold('apply');
    let done = false;
    const applying = pool.apply(route('web', 'green')).then(() => (done = true));
    await tick();
    expect(workers[0]!.table.get('web')?.color).toBe('green');
    expect(done).toBe(false);
    expect(await pool.routes()).toEqual([]);
    release();
    await applying;
    expect(workers.map((w) => w.table.get('web')?.color)).toEqual(['green', 'green']);
    expect(await pool.routes()).toEqual([route('web', 'green')]);
  });

  it('when one worker refuses a change, the others go back to the route before, and the worker\'s error is the answer', async () => {
    const { pool, workers } = await poolOf(3);
    await pool.apply(route('web', 'blue'));
    workers[2]!.failNext.apply = new SwitchyardError('PortInUse', 'cannot listen on 127.0.0.1:8001');
    await expect(pool.apply(route('web', 'green', 8001))).rejects.toMatchObject({ code: 'PortInUse' });
    expect(workers.map((w) => w.table.get('web'))).toEqual([route('web', 'blue'), route('web', 'blue'), route('web', 'blue')]);
    expect(await pool.routes()).toEqual([route('web', 'blue')]);
    // A new app that fails in one worker is taken out of the others.
    workers[0]!.failNext.apply = new SwitchyardError('PortInUse', 'cannot listen on 127.0.0.1:8002');
    await expect(pool.apply(route('api', 'blue', 8002))).rejects.toMatchObject({ code: 'PortInUse' });
    expect(workers.map((w) => w.table.has('api'))).toEqual([false, false, false]);
    // A worker that cannot go back either is discarded (its replacement joins with the table).
    workers[0]!.failNext.apply = new SwitchyardError('PortInUse', 'cannot listen on 127.0.0.1:8003');
    workers[1]!.failWhen = (op, args) => (op === 'apply' && (args[0] as AppRoute).color === 'blue' ? new SwitchyardError('RouteFailed', 'cannot read the certificate') : undefined);
    await expect(pool.apply(route('web', 'green', 8003))).rejects.toMatchObject({ code: 'PortInUse' });
    expect(workers.map((w) => w.discarded)).toEqual([false, true, false]);
    workers[0]!.calls.length = 0;
    workers[1]!.calls.length = 0;
    await pool.remove('web');
    expect([workers[0]!.calls, workers[1]!.calls]).toEqual([['remove web'], []]);
  });

  it('refuses a port another app serves on before any worker is asked', async () => {
    const { pool, workers } = await poolOf(2);
    await pool.apply(route('web', 'blue', 8000));
    await expect(pool.apply(route('api', 'blue', 8000))).rejects.toMatchObject({ code: 'PortInUse', message: expect.stringMatching(/"api".*127\.0\.0\.1:8000.*"web"/) });
    await expect(pool.apply({ ...route('api', 'blue', 8001), listen: { host: '0.0.0.0', port: 8000 } })).rejects.toMatchObject({ code: 'PortInUse' });
    await expect(pool.apply({ ...route('api', 'blue', 8001), listen: undefined, hosts: { names: ['a.test'], pathPrefix: '/', stripPrefix: false, http: { host: '127.0.0.1', port: 8000 } } })).rejects.toMatchObject({ code: 'PortInUse' });
    expect(workers[0]!.calls.filter((c) => c.startsWith('apply api'))).toEqual([]);
    // Another port, or the same app moving: fine.
    await pool.apply(route('api', 'blue', 8001));
    await pool.apply(route('web', 'green', 8000));
  });

  it('gives a worker that joins the challenges and the table as they are after the change in progress', async () => {
    const { pool, workers } = await poolOf(1);
    await pool.answer('tok', 'tok.thumb');
    await pool.apply(route('web', 'blue'));
    const release = workers[0]!.hold('apply');
    const applying = pool.apply(route('web', 'green'));
    await tick();
    const late = new FakeWorker(9);
    const joining = pool.join(late);
    await tick();
    expect(late.calls).toEqual([]);
    release();
    await Promise.all([applying, joining]);
    expect(late.calls).toEqual(['answer tok tok.thumb', 'apply web/green']);
    expect(late.table.get('web')).toEqual(route('web', 'green'));
  });

  it('restores saved routes in the first worker, and drops those it cannot serve so that the agent applies them again; refuses a later worker that cannot serve them', async () => {
    const first = new FakeWorker(1);
    first.failNext.apply = new SwitchyardError('PortInUse', 'cannot listen');
    const pool = new WorkerPool([route('web', 'blue', 8000), route('api', 'blue', 8001)]);
    expect((await pool.join(first)).map((f) => f.app)).toEqual(['web']);
    expect((await pool.routes()).map((r) => r.app)).toEqual(['api']);
    // A later worker that cannot take a route the first serves is not counted in.
    const second = new FakeWorker(2);
    second.failNext.apply = new SwitchyardError('RouteFailed', 'cannot read the certificate');
    await expect(pool.join(second)).rejects.toMatchObject({ code: 'RouteFailed', message: expect.stringMatching(/"api" \(cannot read the certificate\)/) });
    await pool.apply(route('api', 'green', 8001));
    expect(second.calls).toEqual(['apply api/blue']);
  });

  it('leaves out a worker that exits during a call, and fails only when none is left', async () => {
    const { pool, workers } = await poolOf(2);
    workers[1]!.failNext.apply = new WorkerGone('worker exited');
    await pool.apply(route('web', 'green'));
    expect(await pool.routes()).toEqual([route('web', 'green')]);
    pool.leave(1);
    pool.leave(2);
    await expect(pool.apply(route('web', 'blue'))).rejects.toMatchObject({ code: 'RouteFailed', message: 'no proxy worker is running' });
  });

  it('adds up what the workers count: requests left in a drain, and counters per color', async () => {
    const { pool, workers } = await poolOf(2);
    workers[0]!.answers = { drain: 2, counters: { blue: counters(5, { lastHit: 10, ejected: ['a'] }) } };
    workers[1]!.answers = { drain: 1, counters: { blue: counters(7, { lastHit: 30, ejected: ['a', 'b'] }), green: counters(1) } };
    expect(await pool.drain(['web-blue'], 100)).toBe(3);
    expect(workers.map((w) => w.calls.at(-1))).toEqual(['drain web-blue 100', 'drain web-blue 100']);
    expect(await pool.counters('web')).toEqual({ blue: counters(12, { lastHit: 30, ejected: ['a', 'b'] }), green: counters(1) });
  });

  it('sums latency histograms bucket by bucket', () => {
    const h = (counts: number[], sumMs: number) => ({ bucketsMs: [1, 10], counts, count: counts.at(-1)!, sumMs });
    expect(sumCounters([{ blue: counters(2, { latency: h([1, 2], 6) }) }, { blue: counters(3, { latency: h([0, 3], 20), tooLarge: 1 }) }])).toEqual({
      blue: counters(5, { latency: h([1, 5], 26), tooLarge: 1 }),
    });
  });
});
