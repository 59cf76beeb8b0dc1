// One target as the embedded proxy sees it (kamal-proxy's target.go is the model): its connection pool,
// the requests in flight on it, its passive-health state (ejected after failing to be reached several
// times in a row), and its drain, which waits for the last request to finish (an event, not a poll).
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';
import type { RouteTarget } from '../../core/route.js';

/**
 * undici's Pool, and only it: the package's index also loads fetch, WebSocket, its cache and more (a bare
 * node: 62.5 MB of RSS after loading the index, 52.7 MB after the pool alone). The package has no export
 * map, so the file is reached directly; the version is pinned exactly in package.json, and every backend
 * test goes through it.
 */
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
type Pool = UndiciPool;

/** Passive health: this many failures to reach a target in a row take it out of rotation... */
const EJECT_AFTER_FAILURES = 3;
/** ...for this long; then it gets one request again. */
const EJECT_FOR_MS = 10_000;

export class Backend {
  private pool: Pool | undefined;
  private address: string;
  private inFlight = 0;
  private failures = 0;
  private ejectedUntil = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(readonly id: string, target: Pick<RouteTarget, 'host' | 'port'>) {
    this.address = `http://${target.host}:${target.port}`;
  }

  /** The pool to its current address (Docker may have restarted it on a new port: a new pool then). */
  dispatcher(target: Pick<RouteTarget, 'host' | 'port'>): Pool {
    const address = `http://${target.host}:${target.port}`;
    if (this.pool && address !== this.address) {
      void this.pool.close().catch(() => undefined);
      this.pool = undefined;
    }
    this.address = address;
    this.pool ??= new Pool(address, { connections: 512, keepAliveTimeout: 4000 });
    return this.pool;
  }

  /**
   * A request (or a tunnel) is on its way to this target: it counts as in flight before anything can
   * retire it. Returns its end, which counts once however often it is called (close and error both come).
   */
  begin(): () => void {
    this.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      if (this.inFlight > 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    };
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Resolves once no request is in flight on it. */
  idle(): Promise<void> {
    if (this.inFlight <= 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** It answered: whatever failures came before no longer count. */
  answered(): void {
    this.failures = 0;
    this.ejectedUntil = 0;
  }

  /** It could not be reached (refused, reset or timed out before answering). */
  unreachable(now: number): void {
    this.failures++;
    if (this.failures >= EJECT_AFTER_FAILURES) this.ejectedUntil = now + EJECT_FOR_MS;
  }

  ejected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  /**
   * It left every route: its kept-alive sockets close. Sockets still carrying a request (a drain that
   * timed out) are left to finish, or to fail when the target is removed: never cut here.
   */
  retire(): void {
    const pool = this.pool;
    this.pool = undefined;
    if (!pool) return;
    if (this.inFlight) void pool.close().catch(() => undefined);
    else void pool.destroy().catch(() => undefined);
  }

  /** The proxy shuts down. */
  async destroy(): Promise<void> {
    await this.pool?.destroy().catch(() => undefined);
    this.pool = undefined;
  }
}
