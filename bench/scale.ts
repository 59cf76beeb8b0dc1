// bench:scale: the real agent with N apps (one replica per color: 2N containers) on the real engine,
// per router driver. One JSON line per driver and N: the time to converge from the first commit, the
// no-op pass (mean and p99 from the agent's own histogram over an idle window, the source's part of it,
// and the Docker API calls each makes, counted by a proxy in front of the engine's socket), the RSS of
// the agent and of the data plane, the time from commit to live for one flip and for all N flipped in
// one commit, and how each figure grows from the first N to the next. The data plane's own part of each
// change (the journal's flipMs: the router's apply, a HAProxy reload or runtime-API call) is printed per
// commit as p50 and max.
//   npm run bench:scale [-- --apps 100,300 --driver embedded|haproxy --idle 10 --profile DIR]
// --profile writes the agent's CPU profile (node --cpu-prof) into DIR, and prints where its idle window
// lies in it; --node-args="..." runs the agent's node with those flags (to compare V8 settings; default:
// those of packaging/switchyard.service, --max-semi-space-size=1 --optimize-for-size).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectDocker } from '../src/adapters/docker/connect.js';
import { DockerRuntime } from '../src/adapters/docker/containers.js';
import { readyCondition, type AgentStatus } from '../src/core/status.js';
import { startAgent } from '../test/support/agent-process.js';
import { appYaml } from '../test/support/app-yaml.js';
import { startGitServer, TestRepo } from '../test/support/git-server.js';
import { endRun, freePort, need, until } from './support.js';

const { values } = parseArgs({ options: { apps: { type: 'string', default: '100,300' }, driver: { type: 'string' }, idle: { type: 'string', default: '10' }, profile: { type: 'string' }, 'node-args': { type: 'string', default: '--max-semi-space-size=1 --optimize-for-size' } } });
const COUNTS = values.apps.split(',').map(Number);
const IDLE_S = Number(values.idle);
need('haproxy', 'haproxy');
spawnSync('bash', ['scripts/build-example-images.sh'], { stdio: 'inherit' });

/** A unix socket in front of the engine's that counts the HTTP requests going through it. */
function countingDocker(path: string): { server: Server; count: () => number; paths: Map<string, number> } {
  let requests = 0;
  const paths = new Map<string, number>();
  const target = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
  const server = createServer((client) => {
    const engine = createConnection(target);
    client.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString('latin1').matchAll(/^(GET|POST|PUT|DELETE|HEAD) (\/\S*) HTTP\/1\.1\r$/gm)) {
        requests++;
        const key = `${m[1]} ${m[2]!.replace(/\?.*$/, '').replace(/[0-9a-f]{64}|sy-[\w.-]+/g, '{id}')}`;
        paths.set(key, (paths.get(key) ?? 0) + 1);
      }
    });
    client.pipe(engine).pipe(client);
    client.on('error', () => engine.destroy());
    engine.on('error', () => client.destroy());
  });
  server.listen(path);
  return { server, count: () => requests, paths };
}

/** The agent's pass histogram, as its /metrics says it. */
async function passes(apiUrl: string): Promise<{ count: number; sum: number; buckets: [number, number][]; fetches: number; fetchSum: number }> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const buckets = [...text.matchAll(/^switchyard_reconcile_duration_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)].map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])] as [number, number]);
  return {
    count: num(/^switchyard_reconcile_duration_seconds_count (\d+)/m), sum: num(/^switchyard_reconcile_duration_seconds_sum ([\d.e+-]+)/m), buckets,
    fetches: num(/^switchyard_fetch_duration_seconds_count (\d+)/m), fetchSum: num(/^switchyard_fetch_duration_seconds_sum ([\d.e+-]+)/m),
  };
}

/** The agent's V8 heap, used and reserved, from its process metrics. */
async function heapMb(apiUrl: string): Promise<{ used: number; total: number }> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const mb = (name: string) => Math.round(Number(new RegExp(`^${name} ([\\d.e+]+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576);
  return { used: mb('nodejs_heap_size_used_bytes'), total: mb('nodejs_heap_size_total_bytes') };
}

/** The data plane's part of each app's change in `commit` (the journal's durations.flipMs): p50 and max. */
async function routeApplyMs(apiUrl: string, commit: string, n: number): Promise<{ apps: number; p50: number; max: number }> {
  const entries = (await (await fetch(`${apiUrl}/history?limit=${4 * n + 10}`)).json()) as { commit: string; durations?: { flipMs?: number } }[];
  const ms = entries.filter((e) => e.commit === commit && e.durations?.flipMs !== undefined).map((e) => e.durations!.flipMs!).sort((a, b) => a - b);
  return { apps: ms.length, p50: ms[Math.floor(ms.length / 2)] ?? NaN, max: ms[ms.length - 1] ?? NaN };
}

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

async function bench(driver: 'embedded' | 'haproxy', n: number) {
  const instance = `bench-scale-${driver}-${n}-${process.pid}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'sy-scale-'));
  const repo = new TestRepo();
  const server = await startGitServer(repo.root);
  const docker = countingDocker(join(stateDir, 'docker.sock'));
  const runtime = new DockerRuntime(connectDocker(), instance);
  // Apps by host name on one shared port: a port of each app's own, picked now, could be taken by a
  // container's ephemeral port before the agent binds it.
  const http = await freePort();
  const apps = Array.from({ length: n }, (_, i) => i);
  const files = (active: (i: number) => 'blue' | 'green') =>
    Object.fromEntries(apps.map((i) => [`apps/app${i}.yaml`, appYaml({ name: `app${i}`, active: active(i), more: `hosts: [app${i}.scale.test]\n`, blueImage: 'switchyard-example/hello:1.0', greenImage: 'switchyard-example/hello:1.1' })]));
  const live = (status: AgentStatus, commit: string, want: (i: number) => 'blue' | 'green') =>
    apps.every((i) => {
      const app = status.apps[`app${i}`];
      return app?.lastAppliedCommit === commit && app.activeColor === want(i) && readyCondition(app)?.status === 'True';
    });

  const first = repo.commit('bench: all blue', files(() => 'blue'));
  const started = Date.now();
  const nodeArgs = [...values['node-args'].split(' ').filter(Boolean), ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [])];
  const agent = await startAgent(['--repo', `${server.url}/desired.git`, '--interval', '1s', '--instance', instance, '--state-dir', stateDir, '--router', driver, '--http', `127.0.0.1:${http}`, '--log-level', 'info'], { DOCKER_HOST: `unix://${join(stateDir, 'docker.sock')}` }, nodeArgs);
  await until('every app live', async () => (live(await agent.status(), first, () => 'blue') ? true : undefined), 1_800_000, 500);
  const convergeMs = Date.now() - started;

  // Idle: every pass now is a no-op.
  await new Promise((r) => setTimeout(r, 2000));
  const before = await passes(agent.apiUrl);
  const callsBefore = docker.count();
  const pathsBefore = new Map(docker.paths);
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const after = await passes(agent.apiUrl);
  const heap = await heapMb(agent.apiUrl);
  // Where the idle window lies in the agent's profile (from its start, give or take its boot).
  if (values.profile) console.log(JSON.stringify({ profile: values.profile, agentPid: agent.proc.pid, idleFromMs: Date.now() - IDLE_S * 1000 - started, idleToMs: Date.now() - started }));
  const idleCalls = docker.count() - callsBefore;
  const idlePaths = Object.fromEntries([...docker.paths].map(([k, v]) => [k, v - (pathsBefore.get(k) ?? 0)] as const).filter(([, v]) => v > 0));
  const noopPasses = after.count - before.count;
  const p99Bucket = after.buckets.find(([, c], i) => c - (before.buckets[i]?.[1] ?? 0) >= 0.99 * noopPasses)?.[0];
  const proxyPids = spawnSync('pgrep', ['-f', stateDir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number).filter((p) => p !== agent.proc.pid);

  const one = repo.commit('bench: app0 to green', files((i) => (i === 0 ? 'green' : 'blue')));
  let t = Date.now();
  await until('app0 green', async () => (live(await agent.status(), one, (i) => (i === 0 ? 'green' : 'blue')) ? true : undefined), 600_000, 50);
  const oneFlipMs = Date.now() - t;
  const all = repo.commit('bench: all flipped', files((i) => (i === 0 ? 'blue' : 'green')));
  t = Date.now();
  await until('every app flipped', async () => (live(await agent.status(), all, (i) => (i === 0 ? 'blue' : 'green')) ? true : undefined), 600_000, 100);
  const allFlipMs = Date.now() - t;

  const result = {
    bench: 'scale', driver, apps: n, containers: 2 * n, ...(nodeArgs.length ? { nodeArgs: nodeArgs.join(' ') } : {}), convergeMs,
    noopPass: { passes: noopPasses, meanMs: noopPasses ? Math.round(((after.sum - before.sum) / noopPasses) * 1000) : NaN, p99AtMostMs: p99Bucket === undefined ? NaN : p99Bucket * 1000, fetchMeanMs: after.fetches > before.fetches ? Math.round(((after.fetchSum - before.fetchSum) / (after.fetches - before.fetches)) * 1000) : NaN, dockerCallsPerPass: noopPasses ? Math.round((idleCalls / noopPasses) * 10) / 10 : NaN },
    dockerCallsInIdle: idlePaths,
    rssMb: { agent: rssMb(agent.proc.pid!), dataPlane: proxyPids.reduce((s, p) => s + rssMb(p), 0) },
    agentHeapMb: heap,
    oneFlipMs, allFlipMs,
    routeApplyMs: { converge: await routeApplyMs(agent.apiUrl, first, n), oneFlip: await routeApplyMs(agent.apiUrl, one, n), allFlip: await routeApplyMs(agent.apiUrl, all, n) },
  };
  await endRun({ agent, driver, stateDir, instance, runtime, server, repo });
  docker.server.close();
  return result;
}

const drivers = values.driver ? [values.driver as 'embedded' | 'haproxy'] : (['embedded', 'haproxy'] as const);
for (const driver of drivers) {
  const rows: Awaited<ReturnType<typeof bench>>[] = [];
  for (const n of COUNTS) {
    const row = await bench(driver, n);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  // How each figure grew against the number of apps (1.0: linear; below: better than linear).
  if (rows.length > 1) {
    const [a, b] = [rows[0]!, rows[rows.length - 1]!];
    const ratio = (x: number, y: number) => Math.round((y / x / (b.apps / a.apps)) * 100) / 100;
    console.log(JSON.stringify({ bench: 'scale', driver, growth: `${a.apps} -> ${b.apps} apps, per app (1 = linear)`, converge: ratio(a.convergeMs, b.convergeMs), noopPass: ratio(a.noopPass.meanMs, b.noopPass.meanMs), agentRss: ratio(a.rssMb.agent, b.rssMb.agent), dataPlaneRss: ratio(a.rssMb.dataPlane, b.rssMb.dataPlane), oneFlip: ratio(a.oneFlipMs, b.oneFlipMs), allFlip: ratio(a.allFlipMs, b.allFlipMs) }));
  }
}
