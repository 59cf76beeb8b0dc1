// `switchyard proxy`: the data plane as its own process. It serves the routes it is given over its
// control socket, keeps them on disk, and outlives any number of agent restarts. `--stop` asks a
// running one to drain and exit.
import { writeFileSync, rmSync } from 'node:fs';
import { ownerOnly } from './owner-only.js';
import { systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { EmbeddedProxy } from '../adapters/dataplane/embedded-proxy.js';
import { clearStaleSocket, controlAnswers, serveControl } from '../adapters/dataplane/proxy-control.js';
import { proxyFiles } from '../adapters/dataplane/proxy-files.js';
import { PersistedRouter } from '../adapters/dataplane/persisted-router.js';
import { RemoteRouter } from '../adapters/dataplane/remote-router.js';
import { RouteStore } from '../adapters/dataplane/route-store.js';
import { parseFlags } from './flags.js';
import { version } from '../core/version.js';
import { DEFAULT_STATE_DIR } from '../config/state-dir.js';

const SHUTDOWN_DRAIN_MS = 30_000;

export async function runProxy(args: string[]): Promise<number> {
  const { values } = parseFlags('proxy', args, {
    'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
    instance: { type: 'string', default: 'default' },
    stop: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    'trusted-proxies': { type: 'string', default: '' },
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

  const log = createLogger({ level: values['log-level'], pretty: false });
  ownerOnly(values['state-dir']);
  await clearStaleSocket(files.socket);
  const store = new RouteStore(files.routes);
  const trustedProxies = values['trusted-proxies'].split(',').map((s) => s.trim()).filter(Boolean);
  const proxy = new EmbeddedProxy(systemClock, { trustedProxies });
  const router = new PersistedRouter(proxy, store);
  for (const route of store.load()) {
    // Serve again at once what was served before; the agent corrects anything stale on its next pass.
    await proxy.apply(route).catch((e) => log.error({ app: route.app, err: errorMessage(e) }, 'cannot restore route'));
  }

  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      log.info({ why }, 'proxy stopping: draining in-flight requests');
      control.close();
      // Bounded: a client that never lets go must not keep the process alive. The timer is cancelled
      // when the close wins, or it alone would hold the process open for the whole bound.
      const bound = new AbortController();
      await Promise.race([proxy.close(), systemClock.sleep(SHUTDOWN_DRAIN_MS, bound.signal)]);
      bound.abort();
      rmSync(files.pid, { force: true });
      log.info('proxy stopped');
    })();
    return stopping;
  };
  const control = await serveControl(router, proxy, files.socket, { pid: process.pid, version: version(), startedAt: Date.now() }, () => void stop('shutdown request'));
  writeFileSync(files.pid, `${process.pid}\n`);
  log.info({ socket: files.socket, routes: (await proxy.routes()).map((r) => r.app) }, 'proxy started');

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => void stop('SIGTERM').then(resolve));
    process.once('SIGINT', () => void stop('SIGINT').then(resolve));
    control.once('close', () => void stopping?.then(resolve));
  });
  return 0;
}
