// Ports a test picks now and binds later (an agent's listen address, a proxy, a registry). Each test
// worker takes them from a block of its own, below the kernel's ephemeral range: nothing else hands out
// ports there, so neither the other worker's listen(0) nor a port Docker publishes for a container (it
// takes ephemeral ports) can claim one between the pick and the bind.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { inject } from 'vitest';
import { runStateRoot } from './paths.js';

const FIRST = 20_000;
const BLOCK = 500;

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port in this worker's block that nothing listens on now; successive calls (also from later test
 * files of the same worker, whose processes are new) never hand out the same port twice in a run. */
export async function freePort(): Promise<number> {
  const runId = inject('runId');
  const worker = Number(process.env.VITEST_POOL_ID ?? 1);
  const low = ephemeralLow();
  const blocks = Math.floor((low - FIRST) / BLOCK);
  if (blocks < 2) throw new Error(`the ephemeral port range starts at ${low}: no room below it for test port blocks`);
  // Concurrent runs (two clones testing at once) start at other blocks: the run id seeds the offset.
  const seed = [...runId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 9973, 0);
  const base = FIRST + ((seed + worker) % blocks) * BLOCK;
  const folder = join(runStateRoot(runId), 'ports');
  mkdirSync(folder, { recursive: true });
  const counter = join(folder, `worker-${worker}`);
  let next = 0;
  try {
    next = Number(readFileSync(counter, 'utf8')) || 0;
  } catch {
    // first pick of this worker in this run
  }
  for (let tries = 0; tries < BLOCK; tries++) {
    const port = base + (next % BLOCK);
    next++;
    if (await canBind(port)) {
      writeFileSync(counter, String(next));
      return port;
    }
  }
  throw new Error(`no free port left in ${base}-${base + BLOCK - 1} (test worker ${worker})`);
}
