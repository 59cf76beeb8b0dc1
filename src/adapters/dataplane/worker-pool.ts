// The Router of a proxy of several worker processes (`switchyard proxy --workers N`), in its primary
// process. It holds the route table and the ACME challenges; each worker runs an EmbeddedProxy with the
// same, and accepts connections on the same listen sockets. A change returns only once every worker has
// it in force, so the Router promise holds for the whole proxy: every request accepted after apply()
// resolves, by any worker, goes to the new targets. A drain waits for every worker's requests. Changes and
// joins run one at a time, so a worker that (re)joins gets the table as it is and misses no change.
import type { Color } from '../../core/app.js';
import type { ChallengeResponder } from '../../core/certificates.js';
import { errorMessage, SwitchyardError } from '../../core/errors.js';
import type { Address, AppRoute, ColorCounters, Router, Traffic } from '../../core/route.js';
import { sumCounters, sumTraffic } from './traffic-sum.js';

/** What the pool asks of a worker: these methods of its EmbeddedProxy, with the same arguments. */
export const WORKER_OPS = ['apply', 'remove', 'drain', 'counters', 'traffic', 'answer', 'withdraw', 'answerTlsAlpn', 'withdrawTlsAlpn', 'close'] as const;
export type WorkerOp = (typeof WORKER_OPS)[number];

/** One worker, as the primary reaches it (over cluster IPC; a plain object in unit tests). */
export interface ProxyWorker {
  readonly id: number;
  /** Rejects with WorkerGone if the worker exits before it answers. */
  call(op: WorkerOp, args: unknown[]): Promise<unknown>;
  /** Ends the worker (it is replaced, and the replacement takes the table as it is). */
  discard(): void;
}

/** A worker that exited: what it held is gone with it, and its replacement gets the table when it joins. */
export class WorkerGone extends Error {}

export class WorkerPool implements Router, ChallengeResponder {
  readonly challengeTypes = ['http-01', 'tls-alpn-01'] as const;
  private readonly live = new Map<number, ProxyWorker>();
  private readonly table = new Map<string, AppRoute>();
  private readonly http01 = new Map<string, string>();
  private readonly alpn = new Map<string, { certPem: string; keyPem: string }>();
  private chain: Promise<unknown> = Promise.resolve();

  /** `restored`: the routes saved before a restart, served by the workers as they join. */
  constructor(restored: readonly AppRoute[] = []) {
    for (const route of restored) this.table.set(route.app, route);
  }

  /**
   * Gives a new worker the challenges and the routes, then counts it in. The first worker to join drops
   * the routes it could not take from the table (as one process drops a route it cannot restore), so that
   * the agent applies them again, and returns them. A later one that cannot take a route the others serve
   * is not counted in (it would answer that app's host names 404 on a shared port): join rejects, and the
   * caller replaces it.
   */
  join(worker: ProxyWorker): Promise<{ app: string; error: unknown }[]> {
    return this.serial(async () => {
      for (const [token, keyAuthorization] of this.http01) await worker.call('answer', [token, keyAuthorization]);
      for (const [name, { certPem, keyPem }] of this.alpn) await worker.call('answerTlsAlpn', [name, certPem, keyPem]);
      const failed: { app: string; error: unknown }[] = [];
      for (const route of this.table.values()) {
        await worker.call('apply', [route]).catch((error: unknown) => {
          if (error instanceof WorkerGone) throw error;
          failed.push({ app: route.app, error });
        });
      }
      if (failed.length && this.live.size) {
        throw new SwitchyardError('RouteFailed', `a new proxy worker could not take ${failed.map((f) => `"${f.app}" (${errorMessage(f.error)})`).join(', ')}, which the other workers serve`);
      }
      for (const { app } of failed) this.table.delete(app);
      this.live.set(worker.id, worker);
      return failed;
    });
  }

  leave(id: number): void {
    this.live.delete(id);
  }

  private discard(worker: ProxyWorker): void {
    this.live.delete(worker.id);
    worker.discard();
  }

  async apply(route: AppRoute): Promise<void> {
    await this.serial(async () => {
      this.checkPorts(route);
      const previous = this.table.get(route.app);
      const results = await this.each('apply', [route]);
      const failure = results.find((r) => r.status === 'rejected');
      if (failure) {
        // Some workers may have taken it: they go back to the previous route, so that all serve one table;
        // one that cannot is replaced by a worker that takes the table from scratch.
        const back = (w: ProxyWorker) => (previous ? w.call('apply', [previous]) : w.call('remove', [route.app]));
        await Promise.all(results.filter((r) => r.status === 'fulfilled').map((r) => back(r.worker).catch(() => this.discard(r.worker))));
        throw failure.reason;
      }
      this.table.set(route.app, route);
    });
  }

  async remove(app: string): Promise<void> {
    await this.serial(async () => {
      await this.all('remove', [app]);
      this.table.delete(app);
    });
  }

  async routes(): Promise<AppRoute[]> {
    return [...this.table.values()];
  }

  /** Every worker drains its own requests on these targets; what is left is their sum. */
  async drain(targetIds: readonly string[], timeoutMs: number): Promise<number> {
    return (await this.all('drain', [targetIds, timeoutMs])).reduce<number>((n, left) => n + (left as number), 0);
  }

  async counters(app: string): Promise<Partial<Record<Color, ColorCounters>>> {
    return sumCounters((await this.all('counters', [app])) as Partial<Record<Color, ColorCounters>>[]);
  }

  async traffic(): Promise<Traffic> {
    return sumTraffic((await this.all('traffic', [])) as Traffic[]);
  }

  async answer(token: string, keyAuthorization: string): Promise<void> {
    await this.serial(async () => {
      await this.all('answer', [token, keyAuthorization]);
      this.http01.set(token, keyAuthorization);
    });
  }

  async withdraw(token: string): Promise<void> {
    await this.serial(async () => {
      await this.all('withdraw', [token]);
      this.http01.delete(token);
    });
  }

  async answerTlsAlpn(name: string, certPem: string, keyPem: string): Promise<void> {
    await this.serial(async () => {
      await this.all('answerTlsAlpn', [name, certPem, keyPem]);
      this.alpn.set(name, { certPem, keyPem });
    });
  }

  async withdrawTlsAlpn(name: string): Promise<void> {
    await this.serial(async () => {
      await this.all('withdrawTlsAlpn', [name]);
      this.alpn.delete(name);
    });
  }

  /** Every worker stops accepting and finishes its requests in flight. */
  async close(): Promise<void> {
    await this.serial(() => this.all('close', []));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The call on every live worker; one that exits meanwhile is left out (its requests went with it). */
  private async each(op: WorkerOp, args: unknown[]) {
    if (!this.live.size) throw new SwitchyardError('RouteFailed', 'no proxy worker is running', { hint: 'the proxy starts a new worker at once when one exits; see its log if this lasts' });
    const workers = [...this.live.values()];
    const settled = await Promise.allSettled(workers.map((w) => w.call(op, args)));
    return settled
      .map((s, i) => ({ ...s, worker: workers[i]! }))
      .filter((s) => !(s.status === 'rejected' && s.reason instanceof WorkerGone));
  }

  private async all(op: WorkerOp, args: unknown[]): Promise<unknown[]> {
    const results = await this.each(op, args);
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    return results.map((r) => (r as PromiseFulfilledResult<unknown>).value);
  }

  /**
   * Workers share the primary's listen sockets: a port one app already has would be handed to another
   * app too, where one process would get EADDRINUSE. So the pool refuses it, as one process would.
   */
  private checkPorts(route: AppRoute): void {
    const mine = ownAddresses(route);
    const shared = sharedAddresses(route);
    for (const other of this.table.values()) {
      if (other.app === route.app) continue;
      const clash =
        mine.find((a) => [...ownAddresses(other), ...sharedAddresses(other)].some((b) => overlap(a, b))) ??
        shared.find((a) => ownAddresses(other).some((b) => overlap(a, b)));
      if (clash) {
        throw new SwitchyardError('PortInUse', `app "${route.app}": cannot listen on ${clash.host}:${clash.port}: app "${other.app}" serves there`, {
          hint: 'another app of this agent holds that port; change `listen`, `preview.port` or the shared entrypoints in one of the app files',
        });
      }
    }
  }
}

function ownAddresses(route: AppRoute): Address[] {
  if (!route.listen) return [];
  const preview = route.routing?.preview?.port;
  return [route.listen, ...(preview !== undefined ? [{ host: route.listen.host, port: preview }] : [])];
}

function sharedAddresses(route: AppRoute): Address[] {
  return [route.hosts?.http, route.hosts?.https].filter((a): a is Address => a !== undefined);
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The kernel refuses the second bind when the ports match and the hosts match or either is a wildcard. */
function overlap(a: Address, b: Address): boolean {
  return a.port === b.port && (a.host === b.host || WILDCARDS.has(a.host) || WILDCARDS.has(b.host));
}
