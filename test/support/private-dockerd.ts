// A Docker engine of the test's own, so that a test may stop and restart "dockerd" without touching the
// engine the other tests (or anyone else) use: its own data and exec roots, socket, pid file and bridge,
// no iptables rules (published ports go through docker-proxy on 127.0.0.1). The global teardown stops a
// leftover one through its pid file and deletes its bridge.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { processGone, until } from './run.js';

export const DOCKERD_PID = 'dockerd.pid';

/** The bridge of a run's private engine (at most 15 characters, as Linux wants). */
export function privateBridge(runId: string): string {
  return `syd${runId.slice(-8)}`;
}

export class PrivateDockerd {
  readonly socket: string;
  private readonly pidFile: string;

  private constructor(private readonly root: string, private readonly bridge: string) {
    this.socket = join(root, 'docker.sock');
    this.pidFile = join(root, DOCKERD_PID);
  }

  /** Creates the bridge (on a random 10.213.x.0/24) and starts the engine under `root`. */
  static async start(root: string, runId: string): Promise<PrivateDockerd> {
    mkdirSync(root, { recursive: true });
    const bridge = privateBridge(runId);
    execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    execFileSync('ip', ['addr', 'add', `10.213.${Math.floor(Math.random() * 256)}.1/24`, 'dev', bridge]);
    execFileSync('ip', ['link', 'set', bridge, 'up']);
    const d = new PrivateDockerd(root, bridge);
    await d.up();
    return d;
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  /** The docker CLI against this engine. */
  docker(args: string[], input?: Buffer): string {
    return execFileSync('docker', ['-H', this.host, ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  }

  /** Copies an image from the shared engine into this one (no registry involved). */
  load(image: string): void {
    const tar = execFileSync('docker', ['save', image], { maxBuffer: 256 << 20 });
    this.docker(['load', '-q'], tar);
  }

  pid(): number {
    return Number(readFileSync(this.pidFile, 'utf8'));
  }

  /** SIGTERM (the engine stops its containers, as a service restart does) and wait until it is gone. */
  async down(): Promise<void> {
    const pid = this.pid();
    process.kill(pid, 'SIGTERM');
    await processGone('the private dockerd to exit', pid);
  }

  async up(): Promise<void> {
    const log = openSync(join(this.root, 'dockerd.log'), 'a');
    const child = spawn(
      'dockerd',
      ['--data-root', join(this.root, 'data'), '--exec-root', join(this.root, 'exec'), '--pidfile', this.pidFile, '-H', this.host, '--bridge', this.bridge, '--iptables=false', '--ip-masq=false'],
      { stdio: ['ignore', log, log], detached: true },
    );
    child.unref();
    closeSync(log);
    await until('the private dockerd to answer', async () => {
      if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}: see ${join(this.root, 'dockerd.log')}`);
      return (await ping(this.socket)) ? true : undefined;
    }, 30_000, 200);
  }

  /** Removes every container, stops the engine, deletes its bridge and files. */
  async destroy(): Promise<void> {
    try {
      const ids = this.docker(['ps', '-aq']).split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids]);
      await this.down();
    } finally {
      killUnder(this.root);
      deleteBridge(this.bridge);
      unmountUnder(this.root);
      rmSync(this.root, { recursive: true, force: true });
    }
  }
}

/** True when the engine behind `socketPath` answers /_ping. */
export function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Mounts an engine left under `root` (container layers it did not get to unmount), lazily unmounted,
 * deepest first, so that the folder can be removed.
 */
export function unmountUnder(root: string): void {
  const points = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((p) => p === root || p.startsWith(`${root}/`));
  for (const p of points.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', p], { stdio: 'ignore' });
}

/**
 * Kills what an engine under `root` left running: a containerd shim whose containerd went away as a
 * container was being started outlives both engines and the container (seen after a restart mid-deploy).
 */
export function killUnder(root: string): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (Number(pid) !== process.pid && cmdline.includes(`${root}/`)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

export function deleteBridge(bridge: string): void {
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {
    // not there
  }
}
