// `switchyard proxy`: the data plane as its own process. It serves the routes it is given over its
// control socket, keeps them on disk, and outlives any number of agent restarts. `--stop` asks a
// running one to drain and exit. `--workers N` runs N processes that share the listen sockets (see
// proxy-cluster.ts); the default, one, serves from this process itself.
import cluster from 'node:cluster';
import { writeFileSync, rmSync } from 'node:fs';
import { ownerOnly } from './owner-only.js';
import { systemClock } from '../core/clock.js';
import { errorMessage, SwitchyardError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import type { ChallengeResponder } from '../core/certificates.js';
import type { Router } from '../core/route.js';
import { clearStaleSocket, controlAnswers, serveControl } from '../adapters/dataplane/proxy-control.js';
import { proxyFiles } from '../adapters/dataplane/proxy-files.js';
import { PersistedRouter } from '../adapters/dataplane/persisted-router.js';
import { isWorker, serveWorker, startWorkers } from '../adapters/dataplane/proxy-cluster.js';
import { WorkerPool } from '../adapters/dataplane/worker-pool.js';
import { RemoteRouter } from '../adapters/dataplane/remote-router.js';
import { RouteStore } from '../adapters/dataplane/route-store.js';
import { parseFlags } from './flags.js';
import { version } from '../core/version.js';
import { DEFAULT_STATE_DIR } from '../config/state-dir.js';

const SHUTDOWN_DRAIN_MS = 30_000;
const MAX_WORKERS = 64;

export async function runProxy(args: string[]): Promise<number> {
  const { values } = parseFlags('proxy', args, {
    'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
    instance: { type: 'string', default: 'default' },
    stop: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    'trusted-proxies': { type: 'string', default: '' },
    workers: { type: 'string', default: '1' },
  });
  const files = proxyFiles(values['state-dir'], values.instance);
  if (values.stop) {
    if (!(await controlAnswers(files.socket))) {
      process.stderr.write(`no proxy answers on ${files.socket}; nothing to stop\n`);
      return 0;
    }
    await new RemoteRouter(files.socket).shutdown();
    process.stdout.write(`proxy on ${files.socket} is draining and will exit\n`);
    return 0;
  }

  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new SwitchyardError('UsageError', `--workers ${values.workers}: expected a whole number from 1 to ${MAX_WORKERS}`, { hint: 'one per core is the most that helps: `nproc` says how many this host has' });
  }
  const log = createLogger({ level: values['log-level'], pretty: false });
  const trustedProxies = values['trusted-proxies'].split(',').map((s) => s.trim()).filter(Boolean);
  if (isWorker()) {
    // One of the workers of a proxy with several: its primary gives it the routes and stops it.
    serveWorker(new (await embeddedProxy())(systemClock, { trustedProxies }));
    await new Promise((resolve) => process.once('disconnect', resolve));
    return 0;
  }
  ownerOnly(values['state-dir']);
  await clearStaleSocket(files.socket);
  const store = new RouteStore(files.routes);
  const pids: number[] = [];
  const plane = workers > 1 ? await clustered(store, workers, log, pids) : await single(store, trustedProxies, log);
  const router = new PersistedRouter(plane.router, store);

  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      log.info({ why }, 'proxy stopping: draining in-flight requests');
      control.close();
      // Bounded: a client that never lets go must not keep the process alive. The timer is cancelled
      // when the close wins, or it alone would hold the process open for the whole bound.
      const bound = new AbortController();
      await Promise.race([plane.close(), systemClock.sleep(SHUTDOWN_DRAIN_MS, bound.signal)]);
      bound.abort();
      plane.exit();
      rmSync(files.pid, { force: true });
      log.info('proxy stopped');
    })();
    return stopping;
  };
  const served = workers > 1 ? { workers: pids } : {};
  const info = { pid: process.pid, version: version(), startedAt: Date.now(), ...served };
  const control = await serveControl(router, plane.router, files.socket, info, () => void stop('shutdown request'));
  writeFileSync(files.pid, `${process.pid}\n`);
  log.info({ socket: files.socket, routes: (await router.routes()).map((r) => r.app), ...served }, 'proxy started');

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => void stop('SIGTERM').then(resolve));
    process.once('SIGINT', () => void stop('SIGINT').then(resolve));
    control.once('close', () => void stopping?.then(resolve));
  });
  return 0;
}

/** Loaded where requests are served only: the primary of a proxy with workers does without it (and undici). */
const embeddedProxy = async () => (await import('../adapters/dataplane/embedded-proxy.js')).EmbeddedProxy;

interface DataPlane {
  router: Router & ChallengeResponder;
  /** Stops accepting and finishes the requests in flight. */
  close(): Promise<void>;
  /** After close (or its bound): lets the process end. */
  exit(): void;
}

/** One process serves everything: the routes saved before are served again at once. */
async function single(store: RouteStore, trustedProxies: string[], log: Logger): Promise<DataPlane> {
  const proxy = new (await embeddedProxy())(systemClock, { trustedProxies });
  for (const route of store.load()) {
    // Serve again at once what was served before; the agent corrects anything stale on its next pass.
    await proxy.apply(route).catch((e) => log.error({ app: route.app, err: errorMessage(e) }, 'cannot restore route'));
  }
  return { router: proxy, close: () => proxy.close(), exit: () => undefined };
}

/** Workers that share the listen sockets; this process holds the table and serves only the control socket. */
async function clustered(store: RouteStore, workers: number, log: Logger, pids: number[]): Promise<DataPlane> {
  const pool = new WorkerPool(store.load());
  const started = await startWorkers(pool, workers, systemClock, log, pids);
  return {
    router: pool,
    close: () => {
      started.stop();
      return pool.close();
    },
    exit: () => cluster.disconnect(),
  };
}
