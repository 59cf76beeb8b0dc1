// A real Docker Swarm of several engines on this machine, made and removed by the test: each node is a
// dockerd in a network namespace of its own, joined to a bridge on a private subnet (10.214.X.0/24), with
// its own data and exec roots, socket, pid file and cgroup parent. The first node is the manager. Traffic
// goes only to those namespaces' addresses. The global teardown removes what a failed test left
// (labLeftovers).
//
// `ip netns exec` is not used to start an engine: it remounts /sys, which hides the cgroup mounts dockerd
// needs ("Devices cgroup isn't mounted"); nsenter --net enters the network namespace only.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKERD_PID, killUnder, ping, unmountUnder } from './private-dockerd.js';
import { processGone, until } from './run.js';

export interface LabNode {
  name: string;
  /** Its network namespace (under /var/run/netns). */
  netns: string;
  /** Its address on the lab's bridge: where its published ports are reached. */
  addr: string;
  root: string;
  socket: string;
}

/** The lab's names for a run: its bridge (at most 15 characters, as Linux wants) and namespace prefix. */
function labNames(runId: string) {
  const tag = runId.slice(-7);
  return { bridge: `sysw${tag}`, netnsPrefix: `sy-${tag}-n`, vethPrefix: `syv${tag}` };
}

/** iptables' FORWARD chain drops bridged traffic once Docker is on the host: the lab's own bridge is let through. */
const forwardRule = (bridge: string) => ['FORWARD', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', `switchyard-test ${bridge}`, '-j', 'ACCEPT'];

export class SwarmLab {
  private constructor(
    readonly nodes: LabNode[],
    private readonly bridge: string,
  ) {}

  get manager(): LabNode {
    return this.nodes[0]!;
  }

  /** Forms a swarm of `count` nodes under `root` and loads `images` into every engine. */
  static async start(root: string, runId: string, count: number, images: readonly string[]): Promise<SwarmLab> {
    const { bridge, netnsPrefix, vethPrefix } = labNames(runId);
    const subnet = `10.214.${Math.floor(Math.random() * 256)}`;
    mkdirSync(root, { recursive: true });
    const nodes: LabNode[] = Array.from({ length: count }, (_, i) => {
      const name = `n${i + 1}`;
      const dir = join(root, name);
      return { name, netns: `${netnsPrefix}${i + 1}`, addr: `${subnet}.${i + 2}`, root: dir, socket: join(dir, 'docker.sock') };
    });
    const lab = new SwarmLab(nodes, bridge);
    try {
      ip('link', 'add', bridge, 'type', 'bridge');
      ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
      ip('link', 'set', bridge, 'up');
      execFileSync('iptables', ['-I', ...forwardRule(bridge)]);
      nodes.forEach((n, i) => {
        const veth = `${vethPrefix}${i + 1}`;
        ip('netns', 'add', n.netns);
        ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns);
        ip('link', 'set', veth, 'master', bridge, 'up');
        ip('-n', n.netns, 'addr', 'add', `${n.addr}/24`, 'dev', 'eth0');
        ip('-n', n.netns, 'link', 'set', 'eth0', 'up');
        ip('-n', n.netns, 'link', 'set', 'lo', 'up');
      });
      await Promise.all(nodes.map((n) => lab.startEngine(n)));
      const tar = images.length ? execFileSync('docker', ['save', ...images], { maxBuffer: 512 << 20 }) : undefined;
      for (const n of nodes) if (tar) lab.docker(n, ['load', '-q'], tar);
      // A short heartbeat, so that a lost node is noticed within seconds, not the default's ~15 s.
      lab.docker(lab.manager, ['swarm', 'init', '--advertise-addr', lab.manager.addr, '--listen-addr', `${lab.manager.addr}:2377`, '--dispatcher-heartbeat', '1s']);
      const token = lab.docker(lab.manager, ['swarm', 'join-token', '-q', 'worker']).trim();
      for (const n of nodes.slice(1)) lab.docker(n, ['swarm', 'join', '--token', token, '--advertise-addr', n.addr, '--listen-addr', `${n.addr}:2377`, `${lab.manager.addr}:2377`]);
      await until('every node to be ready', () => (lab.readyNodes() === count ? true : undefined), 60_000, 250);
      return lab;
    } catch (e) {
      await lab.destroy();
      throw e;
    }
  }

  /** The docker CLI against one node's engine. */
  docker(node: LabNode, args: string[], input?: Buffer): string {
    return execFileSync('docker', ['-H', `unix://${node.socket}`, ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** The swarm's id of a node. */
  nodeId(node: LabNode): string {
    return this.docker(node, ['info', '--format', '{{.Swarm.NodeID}}']).trim();
  }

  readyNodes(): number {
    return this.docker(this.manager, ['node', 'ls', '--format', '{{.Status}}']).split('\n').filter((s) => s.trim() === 'Ready').length;
  }

  /** Drains a node (its tasks move elsewhere), or makes it active again. */
  availability(node: LabNode, value: 'drain' | 'active'): void {
    this.docker(this.manager, ['node', 'update', '--availability', value, this.nodeId(node)]);
  }

  /**
   * Kills a node's engine and everything it ran, at once (SIGKILL): dockerd, containerd, the shims,
   * docker-proxy and the containers' processes, as a machine that dies would take them.
   */
  killEngine(node: LabNode): void {
    const victims = new Set([...processesInNetns(node.netns), ...processesInCgroup(node.netns)]);
    for (const pid of victims) signal(pid, 'SIGKILL');
    killUnder(node.root);
  }

  /** Leaves the swarm, stops every engine, and removes the namespaces, the bridge and the files. */
  async destroy(): Promise<void> {
    for (const n of [...this.nodes].reverse()) {
      if (!existsSync(n.socket)) continue;
      spawnSync('docker', ['-H', `unix://${n.socket}`, 'swarm', 'leave', '--force'], { stdio: 'ignore', timeout: 30_000 });
      const pid = readPid(join(n.root, DOCKERD_PID));
      if (pid && signal(pid, 'SIGTERM')) await processGone(`dockerd of ${n.name} to exit`, pid).catch(() => undefined);
    }
    for (const n of this.nodes) this.killEngine(n);
    removeLab(this.bridge, this.nodes.map((n) => n.netns), this.nodes.map((n) => n.root));
  }

  private async startEngine(n: LabNode): Promise<void> {
    mkdirSync(n.root, { recursive: true });
    const log = openSync(join(n.root, 'dockerd.log'), 'a');
    // Published ports go through docker-proxy (no iptables rules): a port whose engine died refuses at
    // once, rather than being forwarded to an address nobody answers any more.
    const child = spawn(
      'nsenter',
      [`--net=/var/run/netns/${n.netns}`, 'dockerd', '--data-root', join(n.root, 'data'), '--exec-root', join(n.root, 'exec'), '--pidfile', join(n.root, DOCKERD_PID), '-H', `unix://${n.socket}`, '--cgroup-parent', n.netns, '--iptables=false', '--ip-masq=false'],
      { stdio: ['ignore', log, log], detached: true },
    );
    child.unref();
    closeSync(log);
    await until(`the dockerd of ${n.name} to answer`, async () => {
      if (child.exitCode !== null) throw new Error(`dockerd of ${n.name} exited with ${child.exitCode}: see ${join(n.root, 'dockerd.log')}`);
      return (await ping(n.socket)) ? true : undefined;
    }, 60_000, 200);
  }
}

/** What a run's lab left behind (a test killed midway): its engines' processes, namespaces, bridge, rule. */
export function labLeftovers(runId: string, root: string): void {
  const { bridge, netnsPrefix } = labNames(runId);
  let spaces: string[] = [];
  try {
    spaces = readdirSync('/var/run/netns').filter((n) => n.startsWith(netnsPrefix));
  } catch {
    // no namespaces at all
  }
  for (const ns of spaces) for (const pid of new Set([...processesInNetns(ns), ...processesInCgroup(ns)])) signal(pid, 'SIGKILL');
  const roots = existsSync(root) ? readdirSync(root).map((d) => join(root, d)) : [];
  for (const r of roots) killUnder(r);
  removeLab(bridge, spaces, roots);
}

function removeLab(bridge: string, spaces: readonly string[], roots: readonly string[]): void {
  for (const r of roots) {
    unmountUnder(r);
    rmSync(r, { recursive: true, force: true });
  }
  for (const ns of spaces) {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    removeCgroups(ns);
  }
  spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  while (spawnSync('iptables', ['-D', ...forwardRule(bridge)], { stdio: 'ignore' }).status === 0);
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Every process whose network namespace is `netns` (the engine, containerd, the shims, docker-proxy). */
function processesInNetns(netns: string): number[] {
  let inode: number;
  try {
    inode = statSync(`/var/run/netns/${netns}`).ino;
  } catch {
    return [];
  }
  return allPids().filter((pid) => {
    try {
      return statSync(`/proc/${pid}/ns/net`).ino === inode;
    } catch {
      return false;
    }
  });
}

/** The cgroup folders of a node's containers (its engine's --cgroup-parent), in every hierarchy. */
function cgroupDirs(parent: string): string[] {
  const base = '/sys/fs/cgroup';
  const tops = [join(base, parent), ...readdirSync(base).map((c) => join(base, c, parent))];
  const walk = (d: string): string[] => [d, ...readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => walk(join(d, e.name)))];
  return tops.filter((d) => existsSync(d)).flatMap(walk);
}

/** The containers' processes (each in its own network namespace, found by its cgroup). */
function processesInCgroup(parent: string): number[] {
  return cgroupDirs(parent).flatMap((d) => {
    try {
      return readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

function removeCgroups(parent: string): void {
  for (const d of cgroupDirs(parent).sort((a, b) => b.length - a.length)) spawnSync('rmdir', [d], { stdio: 'ignore' });
}

function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => p !== process.pid);
}

function readPid(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
