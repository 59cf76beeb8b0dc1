// bench:proxy: throughput and p99 latency on one fast backend, in one run:
// - plain HTTP: direct, through the embedded proxy (the real `switchyard proxy` process), and through
//   HAProxy with the same CPU budget (one thread);
// - HTTPS (a certificate from a CA made here): the embedded proxy's shared TLS port, HAProxy (one
//   thread) and nginx (one worker) as the reference;
// - host routing: one host against 100 on the same shared port, for the embedded proxy and for the
//   HAProxy driver's own configuration (its host map).
// Prints one JSON line per row, then one with the ratios.
//   npm run bench:proxy [-- --seconds 10 --connections 50]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/core/clock.js';
import { ensureProxy } from '../src/adapters/dataplane/proxy-launcher.js';
import { RemoteRouter } from '../src/adapters/dataplane/remote-router.js';
import { HaproxyRouter, haproxyPaths } from '../src/adapters/haproxy/haproxy-router.js';
import type { Address, AppRoute } from '../src/core/route.js';
import { makeCa } from '../test/support/tls.js';
import { freePort, haproxyBackend, haproxyProxy, need, nginxTlsProxy, stopProcess, waitForPort, wrk, type WrkResult } from './support.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
need('wrk', 'wrk');
need('haproxy', 'haproxy');
need('nginx', 'nginx');
need('openssl', 'openssl');

const dir = mkdtempSync(join(tmpdir(), 'sy-bench-'));
const ports = { backend: await freePort(), embedded: await freePort(), haproxy: await freePort(), embeddedTls: await freePort(), haproxyTls: await freePort(), nginxTls: await freePort(), embeddedHosts: await freePort(), haproxyHosts1: await freePort(), haproxyHosts100: await freePort() };
const tls = makeCa(dir).issue(['localhost'], 'localhost');
const bundle = join(dir, 'bundle.pem');
writeFileSync(bundle, `${readFileSync(tls.certFile, 'utf8')}${readFileSync(tls.keyFile, 'utf8')}`);
const backend = { id: 'b', color: 'blue' as const, host: '127.0.0.1', port: ports.backend };
const at = (port: number): Address => ({ host: '127.0.0.1', port });
const hostRoute = (app: string, name: string, port: number): AppRoute => ({ app, color: 'blue', targets: [{ ...backend, id: `${app}-b` }], drainTimeoutMs: 1000, hosts: { names: [name], pathPrefix: '/', stripPrefix: false, http: at(port) } });
const hundred = Array.from({ length: 100 }, (_, i) => `h${i}`);

haproxyBackend(dir, ports.backend);
haproxyProxy(dir, ports.haproxy, ports.backend, 1);
haproxyProxy(dir, ports.haproxyTls, ports.backend, 1, bundle);
nginxTlsProxy(dir, ports.nginxTls, ports.backend, tls);
const proxy = await ensureProxy(dir, 'bench', systemClock);
const router = new RemoteRouter(proxy.socket);
await router.apply({ app: 'bench', listen: at(ports.embedded), color: 'blue', targets: [backend], drainTimeoutMs: 1000 });
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
}
await Promise.all(Object.values(ports).map((p) => waitForPort(p)));

const results: Record<string, WrkResult> = {};
const measure = (row: string, port: number, opts: { tls?: boolean; host?: string } = {}) => {
  wrk(port, { connections, seconds: 2, ...opts }); // warm-up: JIT, keep-alive pools, TLS sessions
  results[row] = wrk(port, { connections, seconds, ...opts });
  console.log(JSON.stringify({ bench: 'proxy', row, connections, seconds, ...results[row] }));
};
try {
  measure('direct', ports.backend);
  measure('embedded', ports.embedded);
  measure('haproxy', ports.haproxy);
  measure('embedded-https', ports.embeddedTls, { tls: true });
  measure('haproxy-https', ports.haproxyTls, { tls: true });
  measure('nginx-https', ports.nginxTls, { tls: true });
  measure('embedded-1-host', ports.embeddedHosts, { host: 'h0.test' });
  for (const h of hundred.slice(1)) await router.apply(hostRoute(h, `${h}.test`, ports.embeddedHosts));
  measure('embedded-100-hosts', ports.embeddedHosts, { host: 'h57.test' });
  measure('haproxy-driver-1-host', ports.haproxyHosts1, { host: 'h0.test' });
  measure('haproxy-driver-100-hosts', ports.haproxyHosts100, { host: 'h57.test' });
  const r = (a: string, b: string) => Number((results[a]!.rps / results[b]!.rps).toFixed(3));
  console.log(JSON.stringify({
    bench: 'proxy',
    summary: true,
    embeddedVsHaproxyThroughput: r('embedded', 'haproxy'),
    embeddedAddedP99Ms: Number((results.embedded!.p99Ms - results.direct!.p99Ms).toFixed(3)),
    haproxyAddedP99Ms: Number((results.haproxy!.p99Ms - results.direct!.p99Ms).toFixed(3)),
    https: { embeddedVsNginx: r('embedded-https', 'nginx-https'), haproxyVsNginx: r('haproxy-https', 'nginx-https'), embeddedHttpsVsHttp: r('embedded-https', 'embedded') },
    hosts: { embedded100Vs1: r('embedded-100-hosts', 'embedded-1-host'), haproxyDriver100Vs1: r('haproxy-driver-100-hosts', 'haproxy-driver-1-host') },
    errors: Object.fromEntries(Object.entries(results).filter(([, x]) => x.non2xx || x.socketErrors).map(([k, x]) => [k, { non2xx: x.non2xx, socketErrors: x.socketErrors }])),
    targets: { throughputRatioAtLeast: 0.7, addedP99MsAtMost: 2 },
  }));
} finally {
  await stopProcess(proxy.info.pid, () => router.shutdown());
  for (const d of drivers) {
    const pid = Number(readFileSync(d.paths.pid, 'utf8'));
    await stopProcess(pid, () => d.router.shutdown());
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
