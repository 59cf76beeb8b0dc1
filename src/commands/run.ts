// `switchyard run`: validates its flags, wires the real side effects together, and runs the loop until
// SIGINT/SIGTERM. Containers keep running when the agent stops; the next start adopts them.
import { join } from 'node:path';
import { Agent } from '../agent/agent.js';
import { FileLastGood } from '../agent/last-good.js';
import { startApi } from '../agent/api.js';
import { StatusStore } from '../agent/status.js';
import { parseFlags } from './flags.js';
import { systemClock, type Clock } from '../clock.js';
import { HaproxyRouter, haproxyPaths } from '../router/haproxy/haproxy-router.js';
import type { Router } from '../router/route.js';
import { parseDuration } from '../duration.js';
import { SwitchyardError } from '../errors.js';
import { httpProber } from '../health/probe.js';
import { createLogger } from '../log.js';
import { ensureProxy } from '../router/proxy-launcher.js';
import { RemoteRouter } from '../router/remote-router.js';
import { connectDocker, DockerRuntime } from '../runtime/docker-runtime.js';
import { GitSource } from '../source/git-source.js';
import { DEFAULT_API } from './status.js';
import { DEFAULT_STATE_DIR } from './proxy.js';

const INSTANCE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export async function runAgent(args: string[]): Promise<number> {
  const { values } = parseFlags('run', args, {
    repo: { type: 'string' },
    branch: { type: 'string', default: 'main' },
    path: { type: 'string', default: '' },
    interval: { type: 'string', default: '5s' },
    instance: { type: 'string', default: 'default' },
    'listen-host': { type: 'string', default: '127.0.0.1' },
    api: { type: 'string', default: DEFAULT_API },
    'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
    'log-level': { type: 'string', default: 'info' },
    router: { type: 'string', default: 'embedded' },
  });
  const usage = (message: string, hint: string) => new SwitchyardError('UsageError', message, { hint });
  if (!values.repo) throw usage('--repo is required', 'pass an http(s) URL or a path to a git repository');
  const intervalMs = parseDuration(values.interval);
  if (intervalMs === undefined || intervalMs < 100) throw usage(`--interval "${values.interval}" is not a duration of at least 100ms`, 'e.g. --interval 5s');
  if (!INSTANCE.test(values.instance)) throw usage(`--instance "${values.instance}" is not a DNS label`, 'lowercase letters, digits and dashes, at most 32');
  if (values.router !== 'embedded' && values.router !== 'haproxy') throw usage(`--router "${values.router}" is not a router`, 'use --router embedded (default) or --router haproxy');
  const api = /^(.+):(\d+)$/.exec(values.api);
  if (!api) throw usage(`--api "${values.api}" is not HOST:PORT`, `e.g. --api ${DEFAULT_API}`);

  const log = createLogger({ level: values['log-level'] });
  const clock = systemClock;
  const source = new GitSource({
    repo: values.repo,
    branch: values.branch,
    path: values.path,
    cacheDir: join(values['state-dir'], 'git'),
    ...(process.env.SWITCHYARD_GIT_PASSWORD ? { auth: { username: process.env.SWITCHYARD_GIT_USERNAME ?? 'git', password: process.env.SWITCHYARD_GIT_PASSWORD } } : {}),
  });
  // The data plane is its own process (the embedded proxy, or HAProxy): adopt the one that runs, or
  // start it. Either way it outlives this agent.
  const dataPlane = await startRouter(values.router, values['state-dir'], values.instance, clock);
  const router = dataPlane.router;
  const status = new StatusStore(values.instance, source.description, clock);
  const agent = new Agent({
    source,
    status,
    lastGood: new FileLastGood(join(values['state-dir'], `${values.instance}.last-good.json`)),
    runtime: new DockerRuntime(connectDocker(), values.instance, '127.0.0.1'),
    router,
    prober: httpProber,
    clock,
    log,
    listenHost: values['listen-host'],
  });
  const { server, url } = await startApi({ status: () => agent.status() }, api[1]!, Number(api[2]));
  log.info({ url, source: source.description, instance: values.instance, intervalMs, router: values.router, proxyAdopted: dataPlane.adopted }, 'switchyard agent started');

  const stop = new AbortController();
  const onSignal = (sig: string) => {
    if (stop.signal.aborted) {
      log.warn('second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal: sig }, 'stopping: finishing the current pass; containers and the proxy keep running');
    stop.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  await agent.run(intervalMs, stop.signal);
  await router.close();
  await new Promise((resolve) => server.close(resolve));
  log.info('stopped');
  return 0;
}

async function startRouter(kind: 'embedded' | 'haproxy', stateDir: string, instance: string, clock: Clock): Promise<{ router: Router; adopted: boolean }> {
  if (kind === 'haproxy') {
    const router = new HaproxyRouter(haproxyPaths(stateDir, instance), clock);
    const { adopted } = await router.start();
    return { router, adopted };
  }
  const proxy = await ensureProxy(stateDir, instance, clock);
  return { router: new RemoteRouter(proxy.socket), adopted: !proxy.started };
}
