// `switchyard run`: loads and freezes the agent config, wires the real side effects together, and runs
// the loop until SIGINT/SIGTERM. The data plane and the containers keep running when the agent stops;
// the next start adopts them.
import { join } from 'node:path';
import { Agent } from '../agent/agent.js';
import { startApi } from '../agent/api.js';
import { FileLastGood } from '../agent/last-good.js';
import { StatusStore } from '../agent/status.js';
import { systemClock, type Clock } from '../clock.js';
import { FileSecretReader } from '../desired/env-files.js';
import { parseDuration } from '../duration.js';
import { SwitchyardError } from '../errors.js';
import { healthProber } from '../health/probe.js';
import { createLogger } from '../log.js';
import { HaproxyRouter, haproxyPaths } from '../router/haproxy/haproxy-router.js';
import { ensureProxy } from '../router/proxy-launcher.js';
import { RemoteRouter } from '../router/remote-router.js';
import type { Router } from '../router/route.js';
import { connectDocker, DockerRuntime } from '../runtime/docker-runtime.js';
import { GitSource } from '../source/git-source.js';
import { readConfig } from './config-flags.js';

export async function runAgent(args: string[]): Promise<number> {
  const { config } = readConfig('run', args);
  const intervalMs = parseDuration(config.interval)!;
  if (intervalMs < 100) throw new SwitchyardError('UsageError', `interval "${config.interval}" is shorter than 100ms`, { hint: 'e.g. --interval 5s' });
  const [, apiHost, apiPort] = /^(.+):(\d+)$/.exec(config.api)!;

  const log = createLogger({ level: config.logLevel });
  const clock = systemClock;
  const source = new GitSource({
    repo: config.repo,
    branch: config.branch,
    path: config.path,
    cacheDir: join(config.stateDir, 'git'),
    ...(process.env.SWITCHYARD_GIT_PASSWORD ? { auth: { username: process.env.SWITCHYARD_GIT_USERNAME ?? 'git', password: process.env.SWITCHYARD_GIT_PASSWORD } } : {}),
  });
  // The data plane is its own process (the embedded proxy, or HAProxy): adopt the one that runs, or
  // start it. Either way it outlives this agent.
  const dataPlane = await startRouter(config.router, config.stateDir, config.instance, clock);
  const router = dataPlane.router;
  const status = new StatusStore(config.instance, source.description, clock);
  const agent = new Agent({
    source,
    status,
    lastGood: new FileLastGood(join(config.stateDir, `${config.instance}.last-good.json`)),
    secrets: new FileSecretReader(config.policy.envFilePaths),
    policy: config.policy,
    runtime: new DockerRuntime(connectDocker(), config.instance, '127.0.0.1'),
    router,
    prober: healthProber,
    clock,
    log,
    listenHost: config.listenHost,
  });
  const { server, url } = await startApi({ status: () => agent.status() }, apiHost!, Number(apiPort));
  log.info({ url, source: source.description, instance: config.instance, intervalMs, router: config.router, proxyAdopted: dataPlane.adopted }, 'switchyard agent started');

  const stop = new AbortController();
  const onSignal = (sig: string) => {
    if (stop.signal.aborted) {
      log.warn('second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal: sig }, 'stopping: finishing the current pass; containers and the data plane keep running');
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
