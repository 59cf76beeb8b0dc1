// bench:swarm: what the swarm runtime costs as targets grow, on a one-node swarm of this host's engine
// (made for the run with `docker swarm init --advertise-addr 127.0.0.1` and left again, unless the engine
// was already in a swarm). For each count (--targets 50,150 by default) it prints one JSON line:
// the time to create that many one-replica services through SwarmRuntime.create (8 at a time) until
// every task runs, the cost of one follow tick (list: services, tasks and nodes), and the engine's RSS.
import Docker from 'dockerode';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SwarmRuntime } from '../src/adapters/docker/swarm/swarm-runtime.js';
import type { TargetSpec } from '../src/core/target.js';
import { targetSpec } from '../src/plan/target-spec.js';
import { color, testApp } from '../test/support/specs.js';

const { values } = parseArgs({ options: { targets: { type: 'string', default: '50,150' }, image: { type: 'string', default: 'switchyard-example/hello:1.0' } } });
const counts = values.targets.split(',').map(Number);
const instance = `bench${Date.now().toString(36)}`;
const docker = new Docker();
const made = execFileSync('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'], { encoding: 'utf8' }).trim() !== 'active';
if (made) execFileSync('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'], { stdio: 'ignore' });
const runtime = new SwarmRuntime(docker, instance);

const rssOf = (pattern: string) => {
  const pid = spawnSync('pgrep', ['-xo', pattern], { encoding: 'utf8' }).stdout.trim();
  return pid ? Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024) : undefined;
};

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

try {
  await runtime.ensureManager();
  let have = 0;
  for (const n of counts) {
    const specs: TargetSpec[] = [];
    for (let i = have; i < n; i++) specs.push(targetSpec(testApp('blue', { name: `app${i}`, colors: { blue: color(values.image, 1), green: color(values.image, 1) } }), 'blue', 0, 'bench'));
    const started = performance.now();
    await inBatches(specs, 8, (s) => runtime.create(s));
    const createMs = performance.now() - started;
    have = n;
    const ticks: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const listed = await runtime.list();
      ticks.push(performance.now() - t);
      if (listed.filter((x) => x.running).length !== n) throw new Error(`expected ${n} running targets, saw ${listed.filter((x) => x.running).length}`);
    }
    ticks.sort((a, b) => a - b);
    console.log(JSON.stringify({
      bench: 'swarm', targets: n, createdNow: specs.length, createMs: Math.round(createMs), createPerTargetMs: Math.round(createMs / specs.length),
      tickMeanMs: Math.round(ticks.reduce((a, b) => a + b, 0) / ticks.length), tickP95Ms: Math.round(ticks[Math.floor(ticks.length * 0.95)]!),
      dockerdRssMb: rssOf('dockerd'), containerdRssMb: rssOf('containerd'),
    }));
  }
} finally {
  const ours = await docker.listServices({ filters: { label: [`dev.switchyard.instance=${instance}`] } });
  await inBatches(ours, 16, (s) => docker.getService(s.ID).remove());
  if (made) execFileSync('docker', ['swarm', 'leave', '--force'], { stdio: 'ignore' });
}
