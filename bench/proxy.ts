// bench:proxy: the embedded proxy against what users would pick instead, in one run, each on the same
// CPU budget. Every proxy is pinned alone to core 0 (taskset); wrk and the backend (HAProxy answering
// itself) share core 1. Rows:
// - plain HTTP: direct, the embedded proxy (the real `switchyard proxy` process), HAProxy (nbthread 1),
//   nginx (1 worker) and Caddy (GOMAXPROCS=1), all from Debian, at their maximum rate;
// - the added p99 at half of the embedded proxy's maximum rate (a paced load: wrk with a random delay
//   per connection after each answer), through the embedded proxy and direct;
// - HTTPS (a certificate from a CA made here): the embedded proxy's shared TLS port, HAProxy, nginx;
// - host routing: one host against 100 on the same shared port, for the embedded proxy and for the
//   HAProxy driver's own configuration (its host map);
// - all cores: nothing pinned but the backend, wrk with 2 threads: the embedded proxy with 1 worker and
//   with one per core (`--workers`), against HAProxy with one thread per core.
// Prints one JSON line per row, then one with the ratios and the issue's targets.
//   npm run bench:proxy [-- --seconds 10 --connections 50 --profile DIR --proxy-node-args="..."]
// --profile DIR: the embedded proxy runs with node --cpu-prof, its profile written into DIR at the end
// (read it with `tsx bench/profile-top.ts DIR/*.cpuprofile`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/core/clock.js';
import { ensureProxy, PROXY_NODE_FLAGS } from '../src/adapters/dataplane/proxy-launcher.js';
import { RemoteRouter } from '../src/adapters/dataplane/remote-router.js';
import { controlAnswers } from '../src/adapters/dataplane/proxy-control.js';
import { proxyFiles } from '../src/adapters/dataplane/proxy-files.js';
import { HaproxyRouter, haproxyPaths } from '../src/adapters/haproxy/haproxy-router.js';
import type { Address, AppRoute } from '../src/core/route.js';
import { makeCa } from '../test/support/tls.js';
import { caddyProxy, freePort, haproxyBackend, haproxyProxy, need, nginxProxy, start, stopProcess, waitForPort, wrk, type WrkResult } from './support.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' }, profile: { type: 'string' }, 'proxy-node-args': { type: 'string', default: '' } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
need('wrk', 'wrk');
need('haproxy', 'haproxy');
need('nginx', 'nginx-light');
need('caddy', 'caddy');
need('openssl', 'openssl');
need('taskset', 'util-linux');
/** The proxies' core, and the one wrk and the backend share. */
const PROXY_CPU = 0;
const LOAD_CPU = 1;
const CORES = availableParallelism();

const dir = mkdtempSync(join(tmpdir(), 'sy-bench-'));
const ports = {
  backend: await freePort(), embedded: await freePort(), haproxy: await freePort(), nginx: await freePort(), caddy: await freePort(),
  embeddedAll: await freePort(), embeddedWorkers: await freePort(), haproxyAll: await freePort(),
  embeddedTls: await freePort(), haproxyTls: await freePort(), nginxTls: await freePort(), embeddedHosts: await freePort(), haproxyHosts1: await freePort(), haproxyHosts100: await freePort(),
};
const tls = makeCa(dir).issue(['localhost'], 'localhost');
const bundle = join(dir, 'bundle.pem');
writeFileSync(bundle, `${readFileSync(tls.certFile, 'utf8')}${readFileSync(tls.keyFile, 'utf8')}`);
const backend = { id: 'b', color: 'blue' as const, host: '127.0.0.1', port: ports.backend };
const at = (port: number): Address => ({ host: '127.0.0.1', port });
const hostRoute = (app: string, name: string, port: number): AppRoute => ({ app, color: 'blue', targets: [{ ...backend, id: `${app}-b` }], drainTimeoutMs: 1000, hosts: { names: [name], pathPrefix: '/', stripPrefix: false, http: at(port) } });
const hundred = Array.from({ length: 100 }, (_, i) => `h${i}`);

haproxyBackend(dir, ports.backend, LOAD_CPU);
haproxyProxy(dir, ports.haproxy, ports.backend, 1, undefined, PROXY_CPU);
haproxyProxy(dir, ports.haproxyTls, ports.backend, 1, bundle, PROXY_CPU);
nginxProxy(dir, ports.nginx, ports.backend, undefined, PROXY_CPU);
nginxProxy(dir, ports.nginxTls, ports.backend, tls, PROXY_CPU);
caddyProxy(dir, ports.caddy, ports.backend, PROXY_CPU);
haproxyProxy(dir, ports.haproxyAll, ports.backend, CORES);
// The real proxy process, started pinned here (and adopted as the agent would adopt it); and two more on
// all cores, with one worker and with one per core.
const profiling = [...values['proxy-node-args'].split(' ').filter(Boolean), ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [])];
const { proxy, router } = await embeddedProxy('bench', ports.embedded, { cpu: PROXY_CPU, nodeArgs: profiling });
const allCores = await embeddedProxy('all-cores', ports.embeddedAll, { nodeArgs: PROXY_NODE_FLAGS });
const workers = await embeddedProxy('workers', ports.embeddedWorkers, { nodeArgs: PROXY_NODE_FLAGS, workers: CORES });
await router.apply({ app: 'tls', color: 'blue', targets: [{ ...backend, id: 'tls-b' }], drainTimeoutMs: 1000, hosts: { names: ['localhost'], pathPrefix: '/', stripPrefix: false, https: at(ports.embeddedTls), tls: { ...tls, digest: 'bench' } } });
await router.apply(hostRoute('h0', 'h0.test', ports.embeddedHosts));
// The HAProxy driver's own configuration for 1 and for 100 host names, each started once with its table.
const drivers = [[1, ports.haproxyHosts1], [100, ports.haproxyHosts100]].map(([n, port]) => {
  const paths = haproxyPaths(dir, `hosts${n}`);
  const routes = hundred.slice(0, n).map((h) => hostRoute(h, `${h}.test`, port!));
  return { paths, routes, router: new HaproxyRouter(paths, systemClock) };
});
for (const d of drivers) {
  await d.router.start();
  for (const r of d.routes) await d.router.apply(r);
  pinTree(Number(readFileSync(d.paths.pid, 'utf8')), PROXY_CPU);
}
const results: Record<string, WrkResult & { paced?: { perConnectionDelayMs: number } }> = {};
type Opts = { tls?: boolean; host?: string; script?: string; cpu?: number; threads?: number };
const measure = (row: string, port: number, opts: Opts = {}) => {
  const run = { connections, cpu: LOAD_CPU, threads: 1, ...opts };
  wrk(port, { ...run, seconds: 2 }); // warm-up: JIT, keep-alive pools, TLS sessions
  results[row] = wrk(port, { ...run, seconds });
  const pinned = run.cpu === undefined ? `backend: core ${LOAD_CPU}; proxy and wrk: any` : row === 'direct' ? 'wrk+backend: core 1' : `proxy: core ${PROXY_CPU}; wrk+backend: core ${LOAD_CPU}`;
  console.log(JSON.stringify({ bench: 'proxy', row, connections, seconds, pinned, ...results[row] }));
};
try {
  await Promise.all(Object.values(ports).map((p) => waitForPort(p)));
  measure('direct', ports.backend);
  measure('embedded', ports.embedded);
  measure('haproxy', ports.haproxy);
  measure('nginx', ports.nginx);
  measure('caddy', ports.caddy);
  // Half of the embedded proxy's maximum: after each answer, a connection waits a random time (0 to twice
  // the mean, whole milliseconds), so that the 50 connections do not send in step: a fixed delay keeps them
  // in bursts of 50, and the last request of a burst then waits for the 49 before it (that measures the burst).
  const halfRate = results.embedded!.rps / 2;
  const delayMs = Math.max(1, Math.round((connections * 1000) / halfRate));
  const pace = join(dir, 'pace.lua');
  writeFileSync(pace, `function delay()\n  return math.random(0, ${2 * delayMs})\nend\n`);
  measure('direct-at-half-rate', ports.backend, { script: pace });
  measure('embedded-at-half-rate', ports.embedded, { script: pace });
  measure('embedded-https', ports.embeddedTls, { tls: true });
  measure('haproxy-https', ports.haproxyTls, { tls: true });
  measure('nginx-https', ports.nginxTls, { tls: true });
  measure('embedded-1-host', ports.embeddedHosts, { host: 'h0.test' });
  for (const h of hundred.slice(1)) await router.apply(hostRoute(h, `${h}.test`, ports.embeddedHosts));
  measure('embedded-100-hosts', ports.embeddedHosts, { host: 'h57.test' });
  measure('haproxy-driver-1-host', ports.haproxyHosts1, { host: 'h0.test' });
  measure('haproxy-driver-100-hosts', ports.haproxyHosts100, { host: 'h57.test' });
  const everywhere = { cpu: undefined, threads: CORES };
  measure('embedded-all-cores', ports.embeddedAll, everywhere);
  measure(`embedded-${CORES}-workers-all-cores`, ports.embeddedWorkers, everywhere);
  measure(`haproxy-${CORES}-threads-all-cores`, ports.haproxyAll, everywhere);
  const r = (a: string, b: string) => Number((results[a]!.rps / results[b]!.rps).toFixed(3));
  const addedP99AtHalf = Number((results['embedded-at-half-rate']!.p99Ms - results['direct-at-half-rate']!.p99Ms).toFixed(3));
  console.log(JSON.stringify({
    bench: 'proxy',
    summary: true,
    ...(values['proxy-node-args'] ? { proxyNodeArgs: values['proxy-node-args'] } : {}),
    rps: Object.fromEntries(['direct', 'embedded', 'haproxy', 'nginx', 'caddy'].map((k) => [k, Math.round(results[k]!.rps)])),
    embeddedVs: { haproxy: r('embedded', 'haproxy'), nginx: r('embedded', 'nginx'), caddy: r('embedded', 'caddy') },
    atHalfRate: { rps: Math.round(results['embedded-at-half-rate']!.rps), perConnectionDelayMs: delayMs, embeddedAddedP99Ms: addedP99AtHalf },
    atMaxRate: { embeddedAddedP99Ms: Number((results.embedded!.p99Ms - results.direct!.p99Ms).toFixed(3)), haproxyAddedP99Ms: Number((results.haproxy!.p99Ms - results.direct!.p99Ms).toFixed(3)) },
    https: { embeddedVsNginx: r('embedded-https', 'nginx-https'), haproxyVsNginx: r('haproxy-https', 'nginx-https'), embeddedHttpsVsHttp: r('embedded-https', 'embedded') },
    hosts: { embedded100Vs1: r('embedded-100-hosts', 'embedded-1-host'), haproxyDriver100Vs1: r('haproxy-driver-100-hosts', 'haproxy-driver-1-host') },
    allCores: { cores: CORES, workersVsOne: r(`embedded-${CORES}-workers-all-cores`, 'embedded-all-cores'), workersVsHaproxy: r(`embedded-${CORES}-workers-all-cores`, `haproxy-${CORES}-threads-all-cores`) },
    errors: Object.fromEntries(Object.entries(results).filter(([, x]) => x.non2xx || x.socketErrors).map(([k, x]) => [k, { non2xx: x.non2xx, socketErrors: x.socketErrors }])),
    targets: { embeddedVsCaddyAtLeast: 2, embeddedVsHaproxyAtLeast: 0.35, addedP99AtHalfRateMsAtMost: 1 },
    met: { vsCaddy: r('embedded', 'caddy') >= 2, vsHaproxy: r('embedded', 'haproxy') >= 0.35, addedP99AtHalfRate: addedP99AtHalf <= 1 },
  }));
} finally {
  for (const p of [{ proxy, router }, allCores, workers]) await stopProcess(p.proxy.info.pid, () => p.router.shutdown());
  for (const d of drivers) {
    const pid = Number(readFileSync(d.paths.pid, 'utf8'));
    await stopProcess(pid, () => d.router.shutdown());
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);

/** A real `switchyard proxy` process of its own instance, serving the backend on `port`. */
async function embeddedProxy(instance: string, port: number, opts: { cpu?: number; nodeArgs?: string[]; workers?: number }) {
  const workers = opts.workers ? ['--workers', String(opts.workers)] : [];
  start(process.execPath, [...(opts.nodeArgs ?? []), 'bin/switchyard.js', 'proxy', '--state-dir', dir, '--instance', instance, ...workers], { cpu: opts.cpu, detached: true, stopSignal: 'SIGTERM' });
  for (let i = 0; i < 200 && !(await controlAnswers(proxyFiles(dir, instance).socket)); i++) await new Promise((r) => setTimeout(r, 50));
  const proxy = await ensureProxy(dir, instance, systemClock);
  const router = new RemoteRouter(proxy.socket);
  await router.apply({ app: 'bench', listen: at(port), color: 'blue', targets: [backend], drainTimeoutMs: 1000 });
  return { proxy, router };
}

/** Pins a process and its children (HAProxy's master and its workers) to one core. */
function pinTree(pid: number, cpu: number): void {
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  spawnSync('taskset', ['-a', '-c', '-p', String(cpu), String(pid)], { stdio: 'ignore' });
  for (const k of kids) pinTree(k, cpu);
}
