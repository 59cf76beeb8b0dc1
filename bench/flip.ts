// bench:flip: for each router driver, the real agent on a real git server and Docker, under wrk load
// (50 connections) for the whole run, while it flips blue <-> green 20 times through git commits, rolls
// back with `git revert`, and the agent is killed (SIGKILL) and started again. One JSON line per driver:
// requests, non2xx, socketErrors, flips, p50Ms, p99Ms, and flipLatencyMs (from the agent's
// "health gate passed" to the first response from the new color, as seen by probes sent every 5 ms).
// The probes overlap: the demo backend (busybox httpd, a listen backlog of 9, behind docker-proxy) drops
// about 1.5% of the connections made to it under this load, and a dropped SYN is sent again after 1 s.
// A probe caught by that used to hold the measurement for a second: it measured the backend, not the
// flip. backendListenOverflows counts those drops in the containers' own network namespaces.
//   npm run bench:flip [-- --flips 20 --connections 50 --driver embedded|haproxy]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectDocker } from '../src/adapters/docker/connect.js';
import { DockerRuntime } from '../src/adapters/docker/containers.js';
import { startAgent, type AgentProcess } from '../test/support/agent-process.js';
import { appYaml } from '../test/support/app-yaml.js';
import { startGitServer, TestRepo } from '../test/support/git-server.js';
import { get } from '../test/support/load.js';
import { endRun, freePort, need, until } from './support.js';

const { values } = parseArgs({ options: { flips: { type: 'string', default: '20' }, connections: { type: 'string', default: '50' }, driver: { type: 'string' } } });
const FLIPS = Number(values.flips);
// A request counts as failed on an error status or a broken connection, or after 10 s without an
// answer. Slow answers show in p99 instead: the demo backend (busybox httpd behind docker-proxy, a
// new connection per request, a listen backlog of a few) is slow at p99 on its own; see the baseline.
const WRK_TIMEOUT = '10s';
const CONNECTIONS = Number(values.connections);
need('wrk', 'wrk');
need('haproxy', 'haproxy');
spawnSync('bash', ['scripts/build-example-images.sh'], { stdio: 'inherit', env: { ...process.env, REBUILD: '1' } });

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

async function benchDriver(driver: 'embedded' | 'haproxy') {
  const instance = `bench-flip-${driver}-${process.pid}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'sy-flip-'));
  const repo = new TestRepo();
  const server = await startGitServer(repo.root);
  const listen = await freePort();
  const runtime = new DockerRuntime(connectDocker(), instance);
  const yaml = (active: 'blue' | 'green') =>
    appYaml({ listen, active, blueImage: 'switchyard-example/hello:1.0', greenImage: 'switchyard-example/hello:1.1', replicas: 2 });
  const args = ['--repo', `${server.url}/desired.git`, '--interval', '200ms', '--instance', instance, '--state-dir', stateDir, '--router', driver, '--log-level', 'info'];
  // /version is a static file (1.0 on blue, 1.1 on green): answered with a length, so connections stay
  // alive end to end and the backend is not the bottleneck (the CGI at / forks a shell per request).
  const color = async () => ({ '1.0': 'blue', '1.1': 'green' })[(await get(listen, undefined, '/version')).body.trim()];

  repo.commit('bench: blue', { 'apps/web.yaml': yaml('blue') });
  let agent: AgentProcess = await startAgent(args);
  await until('blue to serve', async () => ((await color()) === 'blue' ? true : undefined));

  const wrk = spawn('wrk', ['-t', '2', '-c', String(CONNECTIONS), '-d', '600s', '--timeout', WRK_TIMEOUT, '--latency', `http://127.0.0.1:${listen}/version`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let wrkOut = '';
  wrk.stdout.on('data', (d) => (wrkOut += d));
  const wrkDone = new Promise<void>((resolve) => wrk.on('exit', () => resolve()));
  await new Promise((r) => setTimeout(r, 1000));

  /** When a probe first got an answer from `to`; a probe is sent every 5 ms whether or not the earlier ones answered. */
  const firstAnswerFrom = (to: 'blue' | 'green') =>
    new Promise<number>((resolve, reject) => {
      let done = false;
      const finish = (f: () => void) => {
        done = true;
        clearInterval(every);
        clearTimeout(limit);
        f();
      };
      const every = setInterval(() => void color().then((c) => !done && c === to && finish(() => resolve(Date.now())), () => undefined), 5);
      const limit = setTimeout(() => finish(() => reject(new Error(`bench: ${to} never answered`))), 120_000);
    });
  const latencies: number[] = [];
  /** Per flip: the agent's part (gate passed -> "route switched" logged) and the rest (-> the first answer from the new color). */
  const parts: { agentMs: number; dataPlaneMs: number }[] = [];
  let flips = 0;
  const flipTo = async (to: 'blue' | 'green', commit: () => void) => {
    const seenGates = agent.logs.filter((l) => l.msg === 'health gate passed').length;
    const seenLogs = agent.logs.length;
    commit();
    const gate = await until(`the gate for ${to}`, async () => agent.logs.filter((l) => l.msg === 'health gate passed' && l.color === to)[0] && agent.logs.filter((l) => l.msg === 'health gate passed').slice(seenGates).find((l) => l.color === to));
    const answered = await firstAnswerFrom(to);
    latencies.push(answered - Number(gate.time));
    // This flip's own log line: the data plane may serve the new color before the agent has logged it.
    const switched = await until('the route switch to be logged', async () => agent.logs.slice(seenLogs).find((l) => l.msg === 'route switched' && l.color === to), 10_000).catch(() => undefined);
    if (switched) parts.push({ agentMs: Number(switched.time) - Number(gate.time), dataPlaneMs: answered - Number(switched.time) });
    flips++;
  };
  for (let i = 0; i < FLIPS; i++) {
    const to = i % 2 === 0 ? 'green' : 'blue';
    await flipTo(to, () => repo.commit(`bench: flip ${i + 1} to ${to}`, { 'apps/web.yaml': yaml(to) }));
  }
  const current = FLIPS % 2 === 0 ? 'blue' : 'green';
  const back = current === 'blue' ? 'green' : 'blue';
  await flipTo(back, () => {
    repo.git('revert', '--no-edit', 'HEAD');
    repo.push();
  });
  // The agent dies mid-traffic and comes back: the data plane must not notice.
  await agent.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  agent = await startAgent(args);
  await until('the new agent to report the app', async () => ((await agent.status()).apps.web?.activeColor === back ? true : undefined));
  await new Promise((r) => setTimeout(r, 1000));

  wrk.kill('SIGINT');
  await wrkDone;
  const overflows = backendListenOverflows(await runtime.list());
  await endRun({ agent, driver, stateDir, instance, runtime, server, repo });

  return {
    bench: 'flip',
    driver,
    ...parseWrk(wrkOut),
    backendListenOverflows: overflows,
    flips,
    agentRestarts: 1,
    flipLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
    // The slowest flips, split: where the time went.
    slowest: parts.map((p, i) => ({ ...p, totalMs: latencies[i] })).sort((a, b) => b.totalMs! - a.totalMs!).slice(0, 3),
  };
}

/** SYNs the backends' kernels dropped for a full accept queue (TcpExtListenOverflows, read in each container's network namespace). */
function backendListenOverflows(targets: readonly { id: string }[]): number {
  let sum = 0;
  for (const t of targets) {
    const pid = spawnSync('docker', ['inspect', '-f', '{{.State.Pid}}', t.id], { encoding: 'utf8' }).stdout.trim();
    const out = spawnSync('nsenter', ['-t', pid, '-n', 'nstat', '-az', 'TcpExtListenOverflows'], { encoding: 'utf8' }).stdout;
    sum += Number(/TcpExtListenOverflows\s+(\d+)/.exec(out)?.[1] ?? NaN);
  }
  return sum;
}

function parseWrk(out: string) {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const ms = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN;
  };
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    connections: CONNECTIONS,
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: errs ? errs.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
    socketErrorsByKind: errs ? { connect: Number(errs[1]), read: Number(errs[2]), write: Number(errs[3]), timeout: Number(errs[4]) } : {},
    p50Ms: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99Ms: ms(/99%\s+([\d.]+)(us|ms|s)/),
  };
}

/** The same load straight at one container of the demo image, no proxy and no flips: the floor. */
async function baseline(seconds: number) {
  const name = `sy-bench-baseline-${process.pid}`;
  spawnSync('docker', ['run', '-d', '--rm', '--name', name, '--label', 'dev.switchyard.bench=1', '-p', '127.0.0.1::8080', 'switchyard-example/hello:1.0'], { stdio: 'ignore' });
  try {
    const port = Number(spawnSync('docker', ['port', name, '8080'], { encoding: 'utf8' }).stdout.trim().split(':').pop());
    await until('the baseline container', async () => ((await get(port, undefined, '/version')).status === 200 ? true : undefined));
    const out = spawnSync('wrk', ['-t', '2', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', WRK_TIMEOUT, '--latency', `http://127.0.0.1:${port}/version`], { encoding: 'utf8' }).stdout;
    return { bench: 'flip', driver: 'none (direct to one container, no flips)', seconds, ...parseWrk(out), backendListenOverflows: backendListenOverflows([{ id: name }]) };
  } finally {
    spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
  }
}

const drivers = values.driver ? [values.driver as 'embedded' | 'haproxy'] : (['embedded', 'haproxy'] as const);
if (!values.driver) console.log(JSON.stringify(await baseline(10)));
for (const driver of drivers) console.log(JSON.stringify(await benchDriver(driver)));
process.exit(0);
