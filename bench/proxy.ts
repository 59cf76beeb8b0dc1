// bench:proxy: throughput and p99 latency on one fast backend, in one run: direct, through the embedded
// proxy (the real `switchyard proxy` process), and through HAProxy with the same CPU budget (one
// thread). Prints one JSON line per target, then one with the ratios.
//   npm run bench:proxy [-- --seconds 10 --connections 50]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/core/clock.js';
import { ensureProxy } from '../src/adapters/dataplane/proxy-launcher.js';
import { RemoteRouter } from '../src/adapters/dataplane/remote-router.js';
import { freePort, haproxyBackend, haproxyProxy, need, stopProcess, waitForPort, wrk } from './support.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
need('wrk', 'wrk');
need('haproxy', 'haproxy');

const dir = mkdtempSync(join(tmpdir(), 'sy-bench-'));
const [backendPort, embeddedPort, haproxyPort] = [await freePort(), await freePort(), await freePort()];
haproxyBackend(dir, backendPort);
haproxyProxy(dir, haproxyPort, backendPort, 1);
const proxy = await ensureProxy(dir, 'bench', systemClock);
const router = new RemoteRouter(proxy.socket);
await router.apply({ app: 'bench', listen: { host: '127.0.0.1', port: embeddedPort }, color: 'blue', targets: [{ id: 'b', color: 'blue', host: '127.0.0.1', port: backendPort }], drainTimeoutMs: 1000 });
await Promise.all([backendPort, embeddedPort, haproxyPort].map((p) => waitForPort(p)));

const results: Record<string, ReturnType<typeof wrk>> = {};
try {
  for (const [target, port] of [['direct', backendPort], ['embedded', embeddedPort], ['haproxy', haproxyPort]] as const) {
    wrk(port, { connections, seconds: 2 }); // warm-up: JIT, keep-alive pools
    results[target] = wrk(port, { connections, seconds });
    console.log(JSON.stringify({ bench: 'proxy', target, connections, seconds, ...results[target] }));
  }
  const ratio = results.embedded!.rps / results.haproxy!.rps;
  console.log(JSON.stringify({
    bench: 'proxy',
    summary: true,
    embeddedVsHaproxyThroughput: Number(ratio.toFixed(3)),
    embeddedAddedP99Ms: Number((results.embedded!.p99Ms - results.direct!.p99Ms).toFixed(3)),
    haproxyAddedP99Ms: Number((results.haproxy!.p99Ms - results.direct!.p99Ms).toFixed(3)),
    targets: { throughputRatioAtLeast: 0.7, addedP99MsAtMost: 2 },
  }));
} finally {
  await stopProcess(proxy.info.pid, () => router.shutdown());
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
