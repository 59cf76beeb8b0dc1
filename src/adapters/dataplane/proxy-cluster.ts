// The processes of a proxy with several workers (`switchyard proxy --workers N`), over node:cluster. The
// primary forks the workers, replaces one that exits, and reaches them through the WorkerPool; a worker
// runs an EmbeddedProxy and answers the pool's calls. Workers accept connections themselves on the
// listen sockets they share (SCHED_NONE): the primary never touches a request, so a route change costs
// one IPC round trip per worker and the proxy's throughput grows with the workers.
import cluster, { type Worker } from 'node:cluster';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { EmbeddedProxy } from './embedded-proxy.js';
import { fromWire, toWire, type WireError } from './wire-error.js';
import { WORKER_OPS, WorkerGone, type ProxyWorker, type WorkerOp, type WorkerPool } from './worker-pool.js';

/** A worker that exits this soon after it started is restarted only after this pause (no crash loop). */
const RESTART_PAUSE_MS = 1000;
/**
 * A worker that has not answered a call in this long (a drain: on top of its own timeout) is killed and
 * replaced: one stopped or wedged worker must not hold every later change, and once it is gone it
 * cannot accept a request by an old route.
 */
const WORKER_ANSWER_MS = 5000;

interface Call { sy: 'call'; id: number; op: WorkerOp; args: unknown[] }
type Reply = { sy: 'reply'; id: number; ok: true; value: unknown } | { sy: 'reply'; id: number; ok: false; error: WireError };
type Ready = { sy: 'ready' };

export const isWorker = (): boolean => cluster.isWorker;

/**
 * Primary: starts `count` workers and resolves once all have joined the pool (and so serve its table).
 * `pids` is kept to the workers that serve, as they come and go. stop() lets no worker be replaced any more.
 */
export async function startWorkers(pool: WorkerPool, count: number, clock: Clock, log: Logger, pids: number[]): Promise<{ stop: () => void }> {
  let stopping = false;
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const fork = (): Promise<void> =>
    new Promise((resolve) => {
      const started = clock.now();
      const worker = cluster.fork();
      const link = new WorkerLink(worker, (op) => {
        log.error({ worker: worker.process.pid, op, waitedMs: WORKER_ANSWER_MS }, 'proxy worker does not answer; killing it');
        link.discard();
      });
      worker.on('message', (msg: Reply | Ready) => {
        if (msg.sy !== 'ready') return link.answer(msg);
        pool.join(link).then(
          (failed) => {
            for (const f of failed) log.error({ app: f.app, worker: worker.process.pid, err: errorMessage(f.error) }, 'proxy worker cannot serve route');
            pids.push(worker.process.pid!);
            log.info({ worker: worker.process.pid }, 'proxy worker serving');
          },
          (e: unknown) => {
            // It may hold part of the table: a fresh one starts from nothing instead.
            log.error({ worker: worker.process.pid, err: errorMessage(e) }, 'proxy worker did not join; replacing it');
            link.discard();
          },
        ).finally(resolve);
      });
      worker.once('exit', (code, signal) => {
        pool.leave(worker.id);
        link.gone();
        const at = pids.indexOf(worker.process.pid!);
        if (at >= 0) pids.splice(at, 1);
        resolve();
        if (stopping) return;
        log.error({ worker: worker.process.pid, code, signal }, 'proxy worker exited; starting another');
        const pause = clock.now() - started < RESTART_PAUSE_MS ? RESTART_PAUSE_MS : 0;
        void clock.sleep(pause).then(() => (stopping ? undefined : fork()));
      });
    });
  await Promise.all(Array.from({ length: count }, fork));
  return { stop: () => (stopping = true) };
}

/** The primary's end of one worker: calls numbered, answered in any order. */
class WorkerLink implements ProxyWorker {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout | undefined }>();
  private exited = false;

  /** `unresponsive` is told of a call left unanswered; the call itself ends when the worker exits. */
  constructor(private readonly worker: Worker, private readonly unresponsive: (op: WorkerOp) => void) {}

  get id(): number {
    return this.worker.id;
  }

  discard(): void {
    this.worker.process.kill('SIGKILL');
  }

  call(op: WorkerOp, args: unknown[]): Promise<unknown> {
    if (this.exited) return Promise.reject(new WorkerGone(`worker ${this.worker.process.pid} exited`));
    const id = this.next++;
    // A close finishes the requests in flight: the primary bounds the whole shutdown instead.
    const waitMs = op === 'close' ? undefined : WORKER_ANSWER_MS + (op === 'drain' ? (args[1] as number) : 0);
    return new Promise((resolve, reject) => {
      const timer = waitMs === undefined ? undefined : setTimeout(() => this.unresponsive(op), waitMs);
      this.pending.set(id, { resolve, reject, timer });
      this.worker.send({ sy: 'call', id, op, args } satisfies Call);
    });
  }

  answer(reply: Reply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    clearTimeout(waiting.timer);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(fromWire(reply.error));
  }

  gone(): void {
    this.exited = true;
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new WorkerGone(`worker ${this.worker.process.pid} exited`));
    }
    this.pending.clear();
  }
}

/**
 * Worker: answers the primary's calls with its EmbeddedProxy. Signals are the primary's to act on (it
 * drains every worker); a worker whose primary is gone exits (node:cluster does that on disconnect).
 */
export function serveWorker(proxy: EmbeddedProxy): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => undefined);
  process.on('message', (msg: Call) => {
    if (msg?.sy !== 'call') return;
    void dispatch(proxy, msg).then(
      (value): Reply => ({ sy: 'reply', id: msg.id, ok: true, value: value ?? null }),
      (e: unknown): Reply => ({ sy: 'reply', id: msg.id, ok: false, error: toWire(e) }),
    ).then((reply) => {
      // A primary that is gone takes the answer's reader with it; this process is exiting then.
      if (process.connected) process.send?.(reply);
    });
  });
  process.send?.({ sy: 'ready' } satisfies Ready);
}

/** The worker's EmbeddedProxy method of the same name as the op (the pool's calls are Router and ChallengeResponder methods). */
function dispatch(proxy: EmbeddedProxy, { op, args }: Call): Promise<unknown> {
  if (!WORKER_OPS.includes(op)) return Promise.reject(new Error(`unknown proxy worker op "${op}"`));
  return (proxy[op] as (...a: unknown[]) => Promise<unknown>).apply(proxy, args);
}
