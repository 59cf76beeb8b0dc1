// In-memory fakes of the side-effect interfaces, for unit tests of the logic.
import type { Clock } from '../../src/core/clock.js';
import type { Color } from '../../src/core/app.js';
import type { ProbeResult, Prober } from '../../src/core/prober.js';
import type { AppRoute, ColorCounters, Router, Traffic } from '../../src/core/route.js';
import type { Runtime } from '../../src/core/runtime.js';
import type { LiveTarget, TargetSpec } from '../../src/core/target.js';
import type { Snapshot, SnapshotFile, Source } from '../../src/core/source.js';
import { SwitchyardError } from '../../src/core/errors.js';

/** Virtual time: sleeping advances the clock at once. */
export class FakeClock implements Clock {
  constructor(public time = 1_000_000) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
    await Promise.resolve();
  }
}

export class FakeRuntime implements Runtime {
  readonly targets = new Map<string, LiveTarget>();
  readonly calls: string[] = [];
  /** Images that "do not exist". */
  missingImages = new Set<string>();
  private seq = 0;

  async list(): Promise<LiveTarget[]> {
    return [...this.targets.values()].map((t) => ({ ...t }));
  }
  async create(spec: TargetSpec): Promise<LiveTarget> {
    this.calls.push(`create ${spec.app}/${spec.worker ? `${spec.worker}/` : ''}${spec.color}/${spec.replica}`);
    if (this.missingImages.has(spec.image)) throw new SwitchyardError('ImagePullFailed', `image "${spec.image}" is not on this host`);
    const n = ++this.seq;
    const t: LiveTarget = {
      id: `c${n}`, name: `${spec.app}-${spec.color}-${spec.replica}-${n}`, app: spec.app, color: spec.color, replica: spec.replica,
      specHash: spec.specHash, commit: spec.commit, running: true, state: 'running',
      ...(spec.worker ? { worker: spec.worker } : { address: { host: '127.0.0.1', port: 40000 + n } }),
    };
    this.targets.set(t.id, t);
    return { ...t };
  }
  async inspect(id: string): Promise<LiveTarget | undefined> {
    const t = this.targets.get(id);
    return t && { ...t };
  }
  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    this.targets.delete(id);
  }
  /** The container exits, as a crash would do. */
  exit(id: string): void {
    const t = this.targets.get(id)!;
    Object.assign(t, { running: false, state: 'exited' });
    delete t.address;
  }
  /** The container crashed and Docker's restart policy is bringing it back (after a backoff). */
  crash(id: string, exitCode = 3, oomKilled = false): void {
    const t = this.targets.get(id)!;
    Object.assign(t, { running: false, state: 'restarting', restarts: (t.restarts ?? 0) + 1, exitCode, ...(oomKilled ? { oomKilled } : {}) });
    delete t.address;
  }
  /** Docker restarted it: running again, published on a new port. */
  restart(id: string): void {
    Object.assign(this.targets.get(id)!, { running: true, state: 'running', address: { host: '127.0.0.1', port: 40000 + ++this.seq } });
  }
  byColor(app: string, color: Color): LiveTarget[] {
    return [...this.targets.values()].filter((t) => t.app === app && t.color === color);
  }
}

/** Health decided per target port; by default every probe passes. */
export class FakeProber implements Prober {
  probes = 0;
  constructor(public healthy: (port: number) => boolean = () => true) {}
  async probe(address: { host: string; port: number }): Promise<ProbeResult> {
    this.probes++;
    return this.healthy(address.port) ? { ok: true, detail: 'HTTP 200 on /healthz' } : { ok: false, detail: 'HTTP 404 on /healthz' };
  }
}

export class FakeRouter implements Router {
  readonly table = new Map<string, AppRoute>();
  readonly applied: AppRoute[] = [];
  /** Pass the runtime's call log to see routes and container calls in one order. */
  constructor(private readonly calls: string[] = []) {}
  /** Thrown by the next apply, e.g. a listen port held by another process. */
  failNext: Error | undefined;
  async apply(route: AppRoute): Promise<void> {
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail) throw fail;
    this.calls.push(`route ${route.app} ${route.color}`);
    this.applied.push(route);
    this.table.set(route.app, route);
  }
  /** Each drain: the targets, its timeout, and how many calls the log held when it began. */
  readonly drains: { ids: readonly string[]; timeoutMs: number; at: number }[] = [];
  async remove(app: string): Promise<void> {
    this.calls.push(`unroute ${app}`);
    this.table.delete(app);
  }
  async routes(): Promise<AppRoute[]> {
    return [...this.table.values()];
  }
  async drain(ids: readonly string[], timeoutMs: number): Promise<number> {
    this.drains.push({ ids, timeoutMs, at: this.calls.length });
    return 0;
  }
  /** What counters() says for every app. */
  counted: Partial<Record<Color, ColorCounters>> = {};
  async counters(): Promise<Partial<Record<Color, ColorCounters>>> {
    return this.counted;
  }
  async traffic(): Promise<Traffic> {
    return Object.fromEntries([...this.table.keys()].map((app) => [app, this.counted]));
  }
  async close(): Promise<void> {}
}

/** A source whose next snapshot the test sets. */
export class FakeSource implements Source {
  readonly description = 'fake';
  next: Snapshot | Error | undefined;
  readonly history = new Map<string, Snapshot>();
  async latest(): Promise<Snapshot> {
    if (!this.next) throw new SwitchyardError('FetchFailed', 'nothing to fetch');
    if (this.next instanceof Error) throw this.next;
    return this.next;
  }
  async at(commit: string): Promise<Snapshot> {
    const s = this.history.get(commit);
    if (!s) throw new SwitchyardError('FetchFailed', `no commit ${commit}`);
    return s;
  }
  async folder(commit: string, dir: string): Promise<SnapshotFile[]> {
    const prefix = `${dir.replace(/\/+$/, '')}/`;
    return (await this.at(commit)).files.filter((f) => f.path.startsWith(prefix)).map((f) => ({ ...f, path: f.path.slice(prefix.length) }));
  }
  commitFiles(commit: string, files: Record<string, string>): void {
    this.next = {
      commit,
      info: { author: 'Test <t@example.com>', message: 'test', timestamp: 0 },
      files: Object.entries(files).map(([path, text]) => ({ path, content: new TextEncoder().encode(text) })),
    };
    this.history.set(commit, this.next);
  }
}
