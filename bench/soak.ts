// bench:soak: minutes of keep-alive load (wrk, 50 connections) on the real agent, data plane and engine,
// with a flip through git every few seconds, per driver. One JSON line per sample (every minute, and
// once before the load as the idle figure) with the RSS of the agent and of the data plane (and the
// embedded proxy's own heap, from its control socket), then one line per driver: requests, failed
// requests (non-2xx, socket errors), flips, the largest RSS under load against the idle one, and the
// data plane's RSS and heap 15 s after the load stopped (a leak stays; GC headroom goes).
//   npm run bench:soak [-- --minutes 5 --flip-every 5 --driver embedded|haproxy]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectDocker } from '../src/adapters/docker/connect.js';
import { DockerRuntime } from '../src/adapters/docker/containers.js';
import { controlAnswers } from '../src/adapters/dataplane/proxy-control.js';
import { proxyFiles } from '../src/adapters/dataplane/proxy-files.js';
import { startAgent } from '../test/support/agent-process.js';
import { appYaml } from '../test/support/app-yaml.js';
import { startGitServer, TestRepo } from '../test/support/git-server.js';
import { get } from '../test/support/load.js';
import { endRun, freePort, need, until } from './support.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, 'flip-every': { type: 'string', default: '5' }, driver: { type: 'string' }, connections: { type: 'string', default: '50' } } });
const MINUTES = Number(values.minutes);
const FLIP_EVERY_MS = Number(values['flip-every']) * 1000;
need('wrk', 'wrk');
need('haproxy', 'haproxy');
spawnSync('bash', ['scripts/build-example-images.sh'], { stdio: 'inherit' });

const mb = (bytes: number) => Math.round(bytes / 1048576);
const rssMb = (pid: number) => {
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
};

async function soak(driver: 'embedded' | 'haproxy') {
  const instance = `bench-soak-${driver}-${process.pid}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'sy-soak-'));
  const repo = new TestRepo();
  const server = await startGitServer(repo.root);
  const listen = await freePort();
  const runtime = new DockerRuntime(connectDocker(), instance);
  const yaml = (active: 'blue' | 'green') => appYaml({ listen, active, blueImage: 'switchyard-example/hello:1.0', greenImage: 'switchyard-example/hello:1.1', replicas: 2 });
  repo.commit('soak: blue', { 'apps/web.yaml': yaml('blue') });
  const agent = await startAgent(['--repo', `${server.url}/desired.git`, '--interval', '1s', '--instance', instance, '--state-dir', stateDir, '--router', driver, '--log-level', 'info']);
  await until('blue to serve', async () => ((await get(listen, undefined, '/version')).body.trim() === '1.0' ? true : undefined));

  /** The data plane's processes: the embedded proxy, or HAProxy's master and workers (old ones included). */
  const dataPlanePids = () => spawnSync('pgrep', ['-f', stateDir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number).filter((p) => p !== agent.proc.pid);
  const sample = async (label: string) => {
    const info = driver === 'embedded' ? await controlAnswers(proxyFiles(stateDir, instance).socket) : undefined;
    const row = {
      bench: 'soak', driver, sample: label,
      rssMb: { agent: rssMb(agent.proc.pid!), dataPlane: dataPlanePids().reduce((s, p) => s + rssMb(p), 0) },
      ...(info?.memory ? { proxyHeapMb: { used: mb(info.memory.heapUsed), total: mb(info.memory.heapTotal), external: mb(info.memory.external) } } : {}),
    };
    console.log(JSON.stringify(row));
    return row;
  };
  await new Promise((r) => setTimeout(r, 5000));
  const idle = await sample('idle');

  const wrk = spawn('wrk', ['-t', '2', '-c', values.connections, '-d', `${MINUTES * 60}s`, '--timeout', '10s', `http://127.0.0.1:${listen}/version`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  wrk.stdout.on('data', (d) => (out += d));
  const done = new Promise<void>((resolve) => wrk.on('exit', () => resolve()));
  let flips = 0;
  let active: 'blue' | 'green' = 'blue';
  const flipper = setInterval(() => {
    active = active === 'blue' ? 'green' : 'blue';
    repo.commit(`soak: flip ${++flips} to ${active}`, { 'apps/web.yaml': yaml(active) });
  }, FLIP_EVERY_MS);
  const samples: Awaited<ReturnType<typeof sample>>[] = [];
  const sampler = setInterval(() => void sample(`minute ${samples.length + 1}`).then((s) => samples.push(s)), 60_000);
  await done;
  clearInterval(flipper);
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 15_000));
  const after = await sample('15 s after the load');
  const live = (await agent.status()).apps.web;
  await endRun({ agent, driver, stateDir, instance, runtime, server, repo });

  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const maxDataPlane = Math.max(...samples.map((s) => s.rssMb.dataPlane));
  return {
    bench: 'soak', driver, minutes: MINUTES, flipEveryS: FLIP_EVERY_MS / 1000, flips,
    requests: num(/(\d+) requests in/),
    failed: num(/Non-2xx or 3xx responses: (\d+)/) + (errs ? errs.slice(1).reduce((n, x) => n + Number(x), 0) : 0),
    lastFlipLive: live?.activeColor === active,
    rssMb: {
      agent: { idle: idle.rssMb.agent, maxUnderLoad: Math.max(...samples.map((s) => s.rssMb.agent)), after: after.rssMb.agent },
      dataPlane: { idle: idle.rssMb.dataPlane, perMinute: samples.map((s) => s.rssMb.dataPlane), after: after.rssMb.dataPlane, maxOverIdle: Number((maxDataPlane / idle.rssMb.dataPlane).toFixed(2)) },
    },
    ...(after.proxyHeapMb ? { proxyHeapUsedMb: { idle: idle.proxyHeapMb?.used, perMinute: samples.map((s) => s.proxyHeapMb?.used), after: after.proxyHeapMb.used } } : {}),
    target: { dataPlaneMaxOverIdleAtMost: 1.5 },
  };
}

const drivers = values.driver ? [values.driver as 'embedded' | 'haproxy'] : (['embedded', 'haproxy'] as const);
for (const driver of drivers) console.log(JSON.stringify(await soak(driver)));
process.exit(0);
