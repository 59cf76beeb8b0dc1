// The swarm runtime on a real multi-node Docker Swarm (test/support/swarm-lab.ts: three engines in
// network namespaces of the test's own, on a private bridge): the real `switchyard run --runtime swarm`
// against the manager, commits pushed to a real repository, traffic through the embedded data plane to
// the tasks' host-mode ports on the nodes' addresses. Flip, revert, a drained node and a killed engine,
// all under load. SWITCHYARD_SWARM_NODES=1 runs it on a single-node swarm.
import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SwarmRuntime } from '../../src/adapters/docker/swarm/swarm-runtime.js';
import { proxyFiles } from '../../src/adapters/dataplane/proxy-files.js';
import { RemoteRouter } from '../../src/adapters/dataplane/remote-router.js';
import { HaproxyRouter, haproxyPaths } from '../../src/adapters/haproxy/haproxy-router.js';
import { systemClock } from '../../src/core/clock.js';
import { readyCondition, type AgentStatus, type TargetStatus } from '../../src/core/status.js';
import { commitLive, startAgent, tearDown, type AgentProcess } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { get, startLoad } from '../support/load.js';
import { runStateRoot } from '../support/paths.js';
import { freePort } from '../support/ports.js';
import { instanceName, stateDir as newStateDir, testImages, until } from '../support/run.js';
import { SwarmLab, type LabNode } from '../support/swarm-lab.js';

const NODES = Number(process.env.SWITCHYARD_SWARM_NODES ?? 3);
/** The data plane in front (SWITCHYARD_SWARM_ROUTER=haproxy runs the same tests through HAProxy). */
const ROUTER = process.env.SWITCHYARD_SWARM_ROUTER === 'haproxy' ? 'haproxy' : 'embedded';
/** Requests each load loop keeps in flight at once: at most this many can be on a node when it dies. */
const CONNECTIONS = 8;
/** A worker (no route, nothing published) that says something, for `switchyard logs`. */
const WORKER = 'workers:\n  ticker:\n    command: ["/bin/busybox", "sh", "-c", "echo ticker up; exec /bin/busybox sleep 3600"]\n';
/**
 * At most two of a color's three targets on one node: a node that dies never takes the whole color with
 * it (Swarm alone may put all three on the node a drain left empty), and a drain still finds room.
 */
const SPREAD = NODES >= 3 ? 'placement:\n  maxReplicasPerNode: 2\n' : '';

describe(`the swarm runtime on a real ${NODES}-node swarm, through the ${ROUTER} data plane`, () => {
  const instance = instanceName();
  const stateDir = newStateDir();
  let lab: SwarmLab;
  let runtime: SwarmRuntime;
  let repo: TestRepo;
  let server: GitServer;
  let agent: AgentProcess;
  let listen: number;
  const yaml = (active: 'blue' | 'green') =>
    appYaml({ listen, active, blueImage: testImages().ok, greenImage: testImages().ok, replicas: 3, greeting: { blue: 'hello', green: 'hi' }, more: WORKER + SPREAD });
  const serving = (color: string) =>
    until(`${color} to serve`, async () => {
      const r = await get(listen).catch(() => undefined);
      return r?.status === 200 && r.body.includes(`(${color})`) ? r.body : undefined;
    });
  const targets = async (app = 'web'): Promise<TargetStatus[]> => {
    const s: AgentStatus = await agent.status();
    return [...(s.apps[app]?.targets?.blue ?? []), ...(s.apps[app]?.targets?.green ?? [])];
  };
  const routedOn = async (node: LabNode) => (await targets()).filter((t) => t.routed && t.address?.startsWith(`${node.addr}:`));
  /** A worker node that serves some of the routed targets (where Swarm put them is its choice). */
  const servingWorker = () =>
    until('a worker that serves', async () => {
      for (const n of lab.nodes.filter((x) => x !== lab.manager)) if ((await routedOn(n)).length) return n;
      return undefined;
    }, 60_000);

  /**
   * Whether the data plane still routes to a node: the embedded proxy is asked for its table; HAProxy's
   * table lives in the agent's driver, so the agent's status says (written when its pass ends).
   */
  const routesTo = async (node: LabNode) =>
    ROUTER === 'haproxy'
      ? (await routedOn(node)).length > 0
      : (await new RemoteRouter(proxyFiles(stateDir, instance).socket).routes()).find((r) => r.app === 'web')!.targets.some((t) => t.host === node.addr);

  beforeAll(async () => {
    const runId = inject('runId');
    lab = await SwarmLab.start(join(runStateRoot(runId), 'swarm'), runId, NODES, [testImages().ok]);
    runtime = new SwarmRuntime(new Docker({ socketPath: lab.manager.socket }), instance);
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    listen = await freePort();
    const config = join(stateDir, 'agent.yaml');
    writeFileSync(config, 'policy:\n  placement: ["node.labels.zone==*"]\n');
    repo.commit('web: first deploy, blue', { 'apps/web.yaml': yaml('blue') });
    agent = await startAgent(['--repo', `${server.url}/desired.git`, '--interval', '300ms', '--instance', instance, '--state-dir', stateDir, '--runtime', 'swarm', '--router', ROUTER, '--config', config], { DOCKER_HOST: `unix://${lab.manager.socket}` });
    await serving('blue');
  }, 240_000);

  afterAll(async () => {
    if (agent) await tearDown({ agent, stateDir, instance, server, repo, runtime });
    if (ROUTER === 'haproxy') await new HaproxyRouter(haproxyPaths(stateDir, instance), systemClock).shutdown().catch(() => undefined);
    await lab?.destroy();
  }, 240_000);

  it('runs each target as a service on the nodes, and status names each target\'s node', async () => {
    // Three targets per color and the worker.
    await until('both colors and the worker to be up', async () => ((await targets()).filter((t) => t.state === 'running').length === 7 ? true : undefined), 60_000);
    const services = lab.docker(lab.manager, ['service', 'ls', '--filter', `label=dev.switchyard.instance=${instance}`, '--format', '{{.Name}} {{.Replicas}}']).trim().split('\n');
    expect(services).toHaveLength(7);
    expect(services.every((s) => / 1\/1$/.test(s))).toBe(true);
    const all = await targets();
    expect(all.every((t) => t.node)).toBe(true);
    // Swarm spreads them: with three nodes, the web targets are on every node's address.
    const hosts = new Set(all.filter((t) => t.address).map((t) => t.address!.split(':')[0]));
    expect(hosts.size).toBe(Math.min(NODES, 3));
    for (const h of hosts) expect(lab.nodes.map((n) => n.addr)).toContain(h);
    const text = execFileSync(process.execPath, ['bin/switchyard.js', 'status', '--api', agent.apiUrl.replace('http://', '')], { encoding: 'utf8' });
    expect(text).toMatch(/APP +COLOR +REPLICA +STATE +ROUTED +ADDRESS +NODE/);
    const logs = execFileSync(process.execPath, ['bin/switchyard.js', 'logs', 'web', '--tail', '5', '--runtime', 'swarm', '--instance', instance], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: `unix://${lab.manager.socket}` } });
    expect(logs).toMatch(/^\[sy-.*-web-ticker-blue-0-[^\]]+\] .*ticker up$/m);
  });

  it.skipIf(NODES < 3)('places targets by constraint and spreads a color with maxReplicasPerNode; the policy refuses other constraints', async () => {
    const zoned = lab.nodes[1]!;
    lab.docker(lab.manager, ['node', 'update', '--label-add', 'zone=a', lab.nodeId(zoned)]);
    const ports = [await freePort(), await freePort()];
    const app = (name: string, placement: string) =>
      appYaml({ name, listen: ports[name === 'zoned' ? 0 : 1], blueImage: testImages().ok, greenImage: testImages().ok, replicas: 3, more: `placement:\n${placement}` });
    // The targets are reported at the end of the pass that made the app Ready.
    const nodeOf = (name: string, color: 'blue' | 'green') =>
      until(`${name}'s ${color} targets in the status`, async () => {
        const s: AgentStatus = await agent.status();
        const targets = s.apps[name]?.targets?.[color] ?? [];
        return targets.length === 3 && targets.every((t) => t.address) ? targets.map((t) => t.address!.split(':')[0]).sort() : undefined;
      });
    const files = {
      'apps/web.yaml': yaml('blue'),
      'apps/zoned.yaml': app('zoned', '  constraints: ["node.labels.zone==a"]\n'),
      'apps/spread.yaml': app('spread', '  maxReplicasPerNode: 1\n'),
    };
    await commitLive(agent, repo, files, ['web', 'zoned', 'spread'], 'zoned and spread apps');
    expect(await nodeOf('zoned', 'blue')).toEqual([zoned.addr, zoned.addr, zoned.addr]);
    expect(await nodeOf('zoned', 'green')).toEqual([zoned.addr, zoned.addr, zoned.addr]);
    // One per node, per color.
    expect(new Set(await nodeOf('spread', 'blue')).size).toBe(3);
    expect(new Set(await nodeOf('spread', 'green')).size).toBe(3);
    // A constraint the agent's policy does not list is refused where it is written.
    const refused = repo.commit('a constraint the policy does not allow', { ...files, 'apps/zoned.yaml': app('zoned', '  constraints: ["node.role==manager"]\n') });
    const errors = await until('the commit to be refused', async () => {
      const s: AgentStatus = await agent.status();
      return s.desired.lastAttemptedCommit === refused && s.desired.errors.length ? s.desired.errors : undefined;
    });
    expect(errors.join('\n')).toMatch(/apps\/zoned\.yaml:\d+:\d+.*placement constraint node\.role==manager: denied by the agent's policy \(rule "placement"\)/);
    // One the policy allows but no node meets: the create fails with Swarm's reason, nothing else changes.
    repo.commit('a constraint no node meets', { ...files, 'apps/zoned.yaml': app('zoned', '  constraints: ["node.labels.zone==nowhere"]\n') });
    const stalled = await until('zoned to stall', async () => {
      const ready = readyCondition((await agent.status()).apps.zoned!);
      return ready?.reason === 'CreateFailed' ? ready.message : undefined;
    }, 60_000);
    expect(stalled).toMatch(/no node can run it: .*no suitable node/);
    expect(await nodeOf('zoned', 'blue')).toEqual([zoned.addr, zoned.addr, zoned.addr]);
    expect((await get(ports[0]!)).status).toBe(200);
    repo.git('rm', '-q', 'apps/zoned.yaml', 'apps/spread.yaml');
    repo.commit('remove zoned and spread');
    await until('zoned and spread to be pruned', async () => ((await runtime.list()).some((t) => t.app !== 'web') ? undefined : true), 60_000);
  });

  it('flips to green and back by revert across nodes with 0 failed requests', async () => {
    const load = startLoad(listen, CONNECTIONS);
    const flip = repo.commit('web: flip to green', { 'apps/web.yaml': yaml('green') });
    await serving('green');
    repo.git('revert', '--no-edit', flip);
    repo.push();
    await serving('blue');
    const counts = await load.stop();
    expect(counts.errors.slice(0, 3)).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(counts.byColor.green).toBeGreaterThan(0);
    expect(counts.byColor.blue).toBeGreaterThan(0);
  });

  it.skipIf(NODES < 2)('drains a node: its tasks move, the route follows, 0 failed requests', async () => {
    await commitLive(agent, repo, { 'apps/web.yaml': yaml('blue') }, ['web'], 'web: baseline before the drain');
    const node = await servingWorker();
    const load = startLoad(listen, CONNECTIONS);
    const drainedAt = Date.now();
    lab.availability(node, 'drain');
    try {
      await until(`the route to leave ${node.name}`, async () => ((await routedOn(node)).length === 0 ? true : undefined), 60_000);
      await until('three blue targets routed again elsewhere', async () => {
        const routed = (await targets()).filter((t) => t.routed);
        return routed.length === 3 && routed.every((t) => !t.address!.startsWith(`${node.addr}:`)) ? true : undefined;
      }, 90_000);
      const counts = await load.stop();
      expect(counts.errors.slice(0, 3)).toEqual([]);
      expect(counts.failed).toBe(0);
      expect(counts.ok).toBeGreaterThan(0);
      // Swarm moved them: nothing of ours is meant to run on the drained node any more.
      const left = lab.docker(lab.manager, ['node', 'ps', lab.nodeId(node), '--filter', 'desired-state=running', '--format', '{{.Name}}']).trim();
      expect(left.split('\n').filter((n) => n.startsWith(`sy-${instance}-`))).toEqual([]);
      // A move is Swarm at work, not a crash: nothing was reported as crash-looping.
      expect(agent.logs.filter((l) => (l.time as number) >= drainedAt && l.reason === 'CrashLoopBackOff')).toEqual([]);
    } finally {
      lab.availability(node, 'active');
    }
  });

  it.skipIf(NODES < 2)("kills a worker's engine: only requests in flight on it may fail, and the route drops its tasks", async () => {
    // New blue targets (a new greeting rolls them), so that Swarm spreads them over every node again
    // (the drain before left a node empty); the victim is a worker that serves some of them.
    await commitLive(agent, repo, { 'apps/web.yaml': yaml('blue').replace('GREETING: hello', 'GREETING: hello again') }, ['web'], 'web: baseline before the kill');
    const victim = await servingWorker();
    const load = startLoad(listen, CONNECTIONS);
    await until('requests to flow', () => (load.counts.ok > 50 ? true : undefined));
    const killedAt = Date.now();
    lab.killEngine(victim);
    await until(`the route to drop ${victim.name}'s tasks`, async () => ((await routesTo(victim)) ? undefined : true), 60_000, 20);
    const droppedAfterMs = Date.now() - killedAt;
    await until('three blue targets routed again', async () => ((await targets()).filter((t) => t.routed && t.state === 'running').length === 3 ? true : undefined), 120_000);
    const counts = await load.stop();
    // Printed, not asserted on: how long the data plane's route took.
    console.log(`engine of ${victim.name} killed: ${counts.failed} failed of ${counts.ok + counts.failed} requests; route dropped its tasks after ${droppedAfterMs} ms`);
    expect(counts.failed).toBeLessThanOrEqual(CONNECTIONS);
    expect(agent.logs.filter((l) => (l.time as number) >= killedAt && l.reason === 'CrashLoopBackOff')).toEqual([]);
    expect(counts.ok).toBeGreaterThan(50);
  });
});
