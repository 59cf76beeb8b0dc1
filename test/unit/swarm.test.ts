// The swarm runtime's logic without a swarm: what a service, its tasks and nodes mean as a target, what
// one target becomes as a service, which changes wake a pass, when a node counts as lost, and what the
// loader refuses on each runtime. The real thing is test/serial/swarm.e2e.test.ts.
import { describe, expect, it } from 'vitest';
import { targetChanges, whereabouts } from '../../src/adapters/docker/swarm/follow.js';
import { NodeWatch, type Reach } from '../../src/adapters/docker/swarm/node-watch.js';
import { serviceName, serviceSpec } from '../../src/adapters/docker/swarm/service-spec.js';
import { toTarget, type SwarmNode, type SwarmTask } from '../../src/adapters/docker/swarm/tasks.js';
import { targetLabels } from '../../src/adapters/docker/labels.js';
import { TEXT_ONLY, type HostView } from '../../src/core/host.js';
import type { LiveTarget } from '../../src/core/target.js';
import { loadDesired } from '../../src/desired/load.js';
import { targetSpec, workerSpec } from '../../src/plan/target-spec.js';
import { describe as describePlan, plan } from '../../src/plan/plan.js';
import { DEFAULT_POLICY, placementAllowed, type Policy } from '../../src/policy/policy.js';
import { appYaml } from '../support/app-yaml.js';
import { color, testApp } from '../support/specs.js';

const spec = targetSpec(testApp('blue', { colors: { blue: color('img:1', 2, { labels: { 'dev.switchyard.app': 'forged', team: 'a' }, resources: { memoryBytes: 64 << 20, cpus: 0.5 }, placement: { constraints: ['node.labels.zone==a'], maxReplicasPerNode: 1 } }), green: color('img:2', 2) } }), 'blue', 1, 'c0ffee');
const service = { ID: 'svc1', Spec: { Name: 'sy-i-web-blue-1', Labels: targetLabels('i', spec) } };
const node = (id: string, state = 'ready', availability = 'active'): SwarmNode => ({ ID: id, Description: { Hostname: `host-${id}` }, Spec: { Availability: availability }, Status: { State: state, Addr: `10.0.0.${id.slice(1)}` } });
const nodes = (...n: SwarmNode[]) => new Map(n.map((x) => [x.ID, x]));
const task = (index: number, nodeId: string, state: string, desired = 'running', port = 30001): SwarmTask => ({
  ID: `t${index}`, ServiceID: 'svc1', NodeID: nodeId, DesiredState: desired, Version: { Index: index },
  Status: { State: state, ContainerStatus: { ExitCode: state === 'failed' ? 2 : 0 }, PortStatus: { Ports: [{ TargetPort: 8080, PublishedPort: port, Protocol: 'tcp' }] } },
});

describe('a service of ours as a target', () => {
  it('runs at its node address and published port when its task runs on a ready, active node', () => {
    expect(toTarget(service, [task(1, 'n1', 'running')], nodes(node('n1')))).toMatchObject({
      id: 'svc1', name: 'sy-i-web-blue-1', app: 'web', color: 'blue', replica: 1, running: true, state: 'running', address: { host: '10.0.0.1', port: 30001 }, node: 'host-n1', restarts: 0,
    });
  });

  it('reads the newest task: the one Swarm moved it to', () => {
    const t = toTarget(service, [task(1, 'n1', 'shutdown', 'shutdown'), task(5, 'n2', 'running', 'running', 30002)], nodes(node('n1'), node('n2')));
    expect(t).toMatchObject({ running: true, address: { host: '10.0.0.2', port: 30002 }, node: 'host-n2', restarts: 0 });
  });

  it('does not run, and is Swarm\'s to bring back, on a draining, down or unreachable node, or while its new task starts', () => {
    for (const n of [node('n1', 'ready', 'drain'), node('n1', 'down'), node('n1', 'unreachable')]) {
      const t = toTarget(service, [task(1, 'n1', 'running')], nodes(n))!;
      expect(t).toMatchObject({ running: false, state: 'restarting', moving: true });
      expect(t.address).toBeUndefined();
    }
    // Moved: the old task was shut down by Swarm, the new one starts elsewhere.
    expect(toTarget(service, [task(1, 'n1', 'shutdown', 'shutdown'), task(2, 'n2', 'starting')], nodes(node('n1'), node('n2')))).toMatchObject({ running: false, state: 'restarting', moving: true });
    // Crashed: the old task failed; that is a crash loop, not a move.
    const crashed = toTarget(service, [task(1, 'n1', 'failed', 'shutdown'), task(2, 'n1', 'starting')], nodes(node('n1')))!;
    expect(crashed).toMatchObject({ running: false, state: 'restarting', restarts: 1, exitCode: 0 });
    expect(crashed.moving).toBeUndefined();
  });

  it('leaves alone a service whose labels are not complete', () => {
    expect(toTarget({ ID: 'x', Spec: { Labels: { 'dev.switchyard.instance': 'i' } } }, [task(1, 'n1', 'running')], nodes(node('n1')))).toBeUndefined();
  });
});

describe('a target as a service', () => {
  it('is one replica, published in host mode at a port the node picks, with our labels winning', () => {
    const s = serviceSpec('i', spec, 'sy-name', 'sha256:abc', [], ['node9']);
    expect(s.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(s.EndpointSpec).toEqual({ Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }] });
    expect(s.Labels).toMatchObject({ 'dev.switchyard.app': 'web', 'dev.switchyard.instance': 'i', team: 'a' });
    const task = s.TaskTemplate as { ContainerSpec: { Image: string; Env: string[]; Labels: object }; Placement: { Constraints: string[] }; Resources: { Limits: object }; RestartPolicy: object };
    expect(task.ContainerSpec.Image).toBe('sha256:abc');
    expect(task.ContainerSpec.Labels).toEqual(s.Labels);
    expect(task.ContainerSpec.Env).toContain('SWITCHYARD_COLOR=blue');
    expect(task.Placement.Constraints).toEqual(['node.labels.zone==a', 'node.id!=node9']);
    expect(task.Resources.Limits).toEqual({ MemoryBytes: 64 << 20, NanoCPUs: 5e8 });
    expect(task.RestartPolicy).toMatchObject({ Condition: 'any' });
  });

  it('publishes nothing for a worker', () => {
    expect(serviceSpec('i', { ...spec, worker: 'jobs' }, 'n', 'img', []).EndpointSpec).toBeUndefined();
  });

  it('has a unique name that is a DNS label, however long the app and instance', () => {
    const a = serviceName('i', spec);
    expect(a).toMatch(/^sy-i-web-blue-1-[0-9a-f]{8}-[0-9a-f]{6}$/);
    expect(serviceName('i', spec)).not.toBe(a);
    const long = serviceName('instance-with-a-long-name', { ...spec, app: 'an-app-name-that-is-long-enough-to-overflow', worker: 'worker-name' });
    expect(long.length).toBeLessThanOrEqual(63);
    // What was cut is kept as a digest, so two long names that share a beginning still differ.
    expect(long).toMatch(/^sy-instance-with-a-[a-z-]*-[0-9a-f]{6}-worker-name-blue-1-[0-9a-f]{8}-[0-9a-f]{6}$/);
    expect(long).not.toMatch(/--/);
  });
});

describe('following targets', () => {
  const live = (id: string, at?: number): LiveTarget => ({ id, name: id, app: 'web', color: 'blue', replica: 0, specHash: 'h', commit: 'c', running: at !== undefined, state: at !== undefined ? 'running' : 'restarting', ...(at ? { address: { host: '10.0.0.1', port: at } } : {}) });

  it('wakes a pass when a target stops, moves or runs again, not when it is removed or unchanged', () => {
    const before = whereabouts([live('a', 1), live('b', 2), live('c'), live('d', 4), live('gone', 5)]);
    const after = whereabouts([live('a', 1), live('b'), live('c', 3), live('d', 40)]);
    expect(targetChanges(before, after)).toEqual([
      { id: 'b', app: 'web', action: 'die' },
      { id: 'c', app: 'web', action: 'start' },
      { id: 'd', app: 'web', action: 'die' },
    ]);
  });
});

describe('the plan on a swarm', () => {
  it('leaves to Swarm a target it is moving: it holds its replica, web target or worker, and is not replaced', () => {
    const app = testApp('blue', { workers: [{ name: 'jobs', replicas: 1, env: {} }] });
    const worker = workerSpec(app, app.workers[0]!, 0, 'c1');
    const web = targetSpec(app, 'blue', 0, 'c1');
    const moved = (s: typeof web, id: string): LiveTarget => ({ id, name: id, app: 'web', color: s.color, replica: s.replica, specHash: s.specHash, commit: 'c1', running: false, state: 'restarting', moving: true, ...(s.worker ? { worker: s.worker } : {}) });
    const live = [moved(worker, 'w0'), moved(web, 'b0'), { ...moved(targetSpec(app, 'blue', 1, 'c1'), 'b1'), running: true, state: 'running', moving: undefined, address: { host: '10.0.0.1', port: 1 } }];
    const route = { app: 'web', listen: { host: '127.0.0.1', port: 9000 }, color: 'blue' as const, drainTimeoutMs: 1000, targets: [{ id: 'b0', color: 'blue' as const, host: '10.0.0.2', port: 2 }, { id: 'b1', color: 'blue' as const, host: '10.0.0.1', port: 1 }] };
    const [p] = plan({ commit: 'c1', apps: [app] }, { targets: live, routes: [route] }, { listenHost: '127.0.0.1' }, 0).apps;
    expect(p!.workers).toEqual({ create: [], remove: [] });
    expect(p!.restarting.map((t) => t.id)).toEqual(['b0']);
    expect(p!.create.filter((c) => c.color === 'blue')).toEqual([]);
    expect(describePlan(p!)).toContain('take 1 target(s) out of the route while Swarm moves them to another node');
  });
});

describe('a node the agent probes', () => {
  const watch = (answers: Record<string, Reach[]>) => new NodeWatch(async (host) => answers[host]!.shift()!);

  it('is lost at once when refused, after two timeouts in a row, and found again when it answers', async () => {
    const w = watch({ a: ['refused', 'open'], b: ['timeout', 'timeout'], c: ['timeout', 'open'] });
    await w.check(['a', 'b', 'c']);
    expect([w.lost('a'), w.lost('b'), w.lost('c')]).toEqual([true, false, false]);
    await w.check(['a', 'b', 'c']);
    expect([w.lost('a'), w.lost('b'), w.lost('c')]).toEqual([false, true, false]);
  });

  it('forgets a node the manager no longer calls ready', async () => {
    const w = watch({ a: ['refused'] });
    await w.check(['a']);
    await w.check([]);
    expect(w.lost('a')).toBe(false);
  });
});

describe('placement in the app file', () => {
  const load = (more: string, host: HostView, policy: Policy = { ...DEFAULT_POLICY, placement: ['node.labels.zone==*'] }) =>
    loadDesired('c1', [{ path: 'apps/web.yaml', content: new TextEncoder().encode(appYaml({ listen: 9000, more })) }], policy, host);
  const PLACEMENT = 'placement:\n  constraints: ["node.labels.zone == a"]\n  maxReplicasPerNode: 2\n';

  it('is read for a swarm, into both colors and their spec hash', () => {
    const r = load(PLACEMENT, { ...TEXT_ONLY, runtime: 'swarm' });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const web = r.state.apps[0]!;
    expect(web.colors.blue.placement).toEqual({ constraints: ['node.labels.zone==a'], maxReplicasPerNode: 2 });
    expect(web.colors.green.placement).toEqual(web.colors.blue.placement);
    const without = load('', { ...TEXT_ONLY, runtime: 'swarm' });
    if (!without.ok) throw new Error('expected ok');
    expect(targetSpec(web, 'blue', 0, 'c').specHash).not.toBe(targetSpec(without.state.apps[0]!, 'blue', 0, 'c').specHash);
  });

  it('is refused on the docker runtime, and a constraint the policy does not list anywhere, at their lines', () => {
    const docker = load(PLACEMENT, { ...TEXT_ONLY, runtime: 'docker' });
    expect(String(!docker.ok && docker.errors.join('\n'))).toMatch(/^apps\/web\.yaml:5:3 placement: placement is for a swarm.*\(hint: remove placement, or run the agent with runtime: swarm/);
    const denied = load(PLACEMENT, TEXT_ONLY, { ...DEFAULT_POLICY });
    expect(String(!denied.ok && denied.errors.join('\n'))).toMatch(/^apps\/web\.yaml:5:17 placement\.constraints\[0\]: placement constraint node\.labels\.zone==a: denied by the agent's policy \(rule "placement"\)/);
  });

  it('refuses on a swarm what Swarm services cannot do, where it is written', () => {
    const r = load('privileged: true\n', { ...TEXT_ONLY, runtime: 'swarm' }, { ...DEFAULT_POLICY, allowPrivileged: true });
    expect(String(!r.ok && r.errors.join('\n'))).toMatch(/^apps\/web\.yaml:4:13 privileged: privileged mode cannot run on a swarm/);
    expect(load('privileged: true\n', { ...TEXT_ONLY, runtime: 'docker' }, { ...DEFAULT_POLICY, allowPrivileged: true }).ok).toBe(true);
  });

  it('matches policy patterns whole, * standing for any text', () => {
    expect(placementAllowed('node.labels.zone==a', ['node.labels.zone==*'])).toBe(true);
    expect(placementAllowed('node.labels.zone!=a', ['node.labels.zone==*'])).toBe(false);
    expect(placementAllowed('node.role==manager', ['node.labels.*'])).toBe(false);
    expect(placementAllowed('node.labels.zone==a', ['node.labels.zone == a'])).toBe(true);
    expect(placementAllowed('node.labels.zoneXa', ['node.labels.zone.a'])).toBe(false);
  });
});
