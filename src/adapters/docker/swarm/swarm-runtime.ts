// The Runtime on a Docker Swarm (dockerode against a manager): each target is a service of one replica
// (service-spec.ts), read back from its newest task and that task's node (tasks.ts). Only services
// labelled with this agent's instance are listed, changed or removed. Swarm schedules, reschedules and
// restarts; Switchyard creates and removes targets, gates them, and owns the route. Following the tasks
// as they move is follow.ts.
import type Docker from 'dockerode';
import { SwitchyardError } from '../../../core/errors.js';
import type { Runtime, TargetEvent } from '../../../core/runtime.js';
import type { LiveTarget, TargetSpec } from '../../../core/target.js';
import { ACTION_TIMEOUT_MS, PULL_IDLE_TIMEOUT_MS, READ_TIMEOUT_MS, type DockerRuntimeOptions } from '../containers.js';
import { bounded, createError, engineRead, statusOf, unavailable } from '../engine-errors.js';
import { Images } from '../images.js';
import { LABEL, targetLabels } from '../labels.js';
import { targetLogs, type LogOptions } from '../logs.js';
import { Volumes } from '../volumes.js';
import { followTasks } from './follow.js';
import { NodeWatch } from './node-watch.js';
import { serviceName, serviceSpec } from './service-spec.js';
import { currentTask, newestFirst, taskProblem, toTarget, type SwarmNode, type SwarmService, type SwarmTask } from './tasks.js';

export type SwarmRuntimeOptions = Omit<DockerRuntimeOptions, 'bindHost'> & {
  /** How often a new task's state is read while it starts (default 250 ms). */
  startPollMs?: number;
  /** How long a new task may wait for a node before the create fails (default 5 s: a constraint no node meets). */
  unplacedMs?: number;
};

/** Service ids per tasks request: the filter goes in the URL. */
const TASK_FILTER_CHUNK = 50;

export class SwarmRuntime implements Runtime {
  private readonly images: Images;
  private readonly volumes: Volumes;
  private readonly readTimeoutMs: number;
  private readonly actionTimeoutMs: number;
  private readonly startPollMs: number;
  private readonly unplacedMs: number;
  private readonly beforeCreate: ((spec: TargetSpec) => void) | undefined;
  /** Creates that spread a color over nodes (maxReplicasPerNode) go one at a time per app and color. */
  private readonly placing = new Map<string, Promise<unknown>>();
  /** The agent's own check of the other nodes (node-watch.ts), while it follows the tasks. */
  private readonly nodeWatch = new NodeWatch();
  private known: SwarmNode[] = [];
  /** The node whose engine this is: never probed (when it is gone, so is every answer). */
  private self: string | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly instance: string,
    opts: SwarmRuntimeOptions = {},
  ) {
    this.readTimeoutMs = opts.readTimeoutMs ?? READ_TIMEOUT_MS;
    this.actionTimeoutMs = opts.actionTimeoutMs ?? ACTION_TIMEOUT_MS;
    this.startPollMs = opts.startPollMs ?? 250;
    this.unplacedMs = opts.unplacedMs ?? 5_000;
    this.beforeCreate = opts.beforeCreate;
    this.volumes = new Volumes(docker, instance, opts.externalVolumes ?? [], this.actionTimeoutMs);
    this.images = new Images(docker, instance, { credentials: opts.credentials ?? {}, readContext: opts.readContext, pullIdleTimeoutMs: opts.pullIdleTimeoutMs ?? PULL_IDLE_TIMEOUT_MS, buildNetwork: opts.buildNetwork ?? 'default' });
  }

  /** Fails unless the engine is a manager of an active swarm: what the agent checks at start. */
  async ensureManager(): Promise<void> {
    const info = (await this.read('read the engine info', () => this.docker.info())) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string } };
    this.self = info.Swarm?.NodeID;
    if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
      throw new SwitchyardError('UsageError', `runtime swarm: this Docker engine is ${info.Swarm?.LocalNodeState === 'active' ? 'a swarm worker, not a manager' : 'not part of a swarm'}`, {
        hint: 'run the agent on a manager (docker swarm init, or docker node promote), or point DOCKER_HOST at one; or use runtime: docker',
      });
    }
  }

  async list(): Promise<LiveTarget[]> {
    const services = (await this.read('list services', () => this.docker.listServices({ filters: { label: [`${LABEL.instance}=${this.instance}`] } }))) as SwarmService[];
    if (!services.length) return [];
    const [tasks, nodes] = await Promise.all([this.tasksOf(services.map((s) => s.ID)), this.nodes()]);
    const byService = new Map<string, SwarmTask[]>();
    for (const t of tasks) byService.set(t.ServiceID, [...(byService.get(t.ServiceID) ?? []), t]);
    return services.flatMap((s) => toTarget(s, byService.get(s.ID) ?? [], nodes) ?? []);
  }

  async inspect(id: string): Promise<LiveTarget | undefined> {
    let service: SwarmService;
    try {
      service = (await bounded('inspect service', this.docker.getService(id).inspect(), this.readTimeoutMs)) as SwarmService;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw unavailable('inspect service', e);
    }
    if (service.Spec?.Labels?.[LABEL.instance] !== this.instance) return undefined;
    const [tasks, nodes] = await Promise.all([this.tasksOf([id]), this.nodes()]);
    return toTarget(service, tasks, nodes);
  }

  async create(spec: TargetSpec): Promise<LiveTarget> {
    this.beforeCreate?.(spec);
    if (!spec.placement?.maxReplicasPerNode) return this.start(spec, []);
    const key = `${spec.app}/${spec.color}/${spec.worker ?? ''}`;
    const turn = (this.placing.get(key) ?? Promise.resolve()).catch(() => undefined).then(async () => this.start(spec, await this.fullNodes(spec)));
    this.placing.set(key, turn);
    // The last create of a key takes its entry with it: the map holds only creates in progress.
    void turn.catch(() => undefined).finally(() => this.placing.get(key) === turn && this.placing.delete(key));
    return turn;
  }

  /** Creates the service and waits until its task runs (and is published), or fails with Swarm's reason. */
  private async start(spec: TargetSpec, avoiding: readonly string[]): Promise<LiveTarget> {
    const name = serviceName(this.instance, spec);
    const image = await this.images.pinned(spec);
    const mounts: Docker.MountSettings[] = spec.volumes.map((v) => {
      if (!v.name) return { Type: 'bind', Source: v.hostPath!, Target: v.path, ReadOnly: v.readOnly };
      const { name: source, external } = this.volumes.nameOf(spec.app, v.name);
      // A node creates the app's own volume, with our labels, the first time a task of it runs there.
      return { Type: 'volume', Source: source, Target: v.path, ReadOnly: v.readOnly, ...(external ? {} : { VolumeOptions: { NoCopy: false, Labels: { [LABEL.instance]: this.instance, [LABEL.app]: spec.app }, DriverConfig: { Name: 'local', Options: {} } } }) };
    });
    const auth = this.images.authFor(spec.image);
    let id: string;
    try {
      const options = serviceSpec(this.instance, spec, name, image, mounts, avoiding);
      const created = (await bounded('create service', this.docker.createService({ ...options, ...(auth ? { authconfig: auth } : {}) }), this.actionTimeoutMs)) as unknown as { id?: string; ID?: string };
      id = created.id ?? created.ID!;
    } catch (e) {
      throw createError(name, e);
    }
    try {
      return await this.running(id, name, spec);
    } catch (e) {
      await this.remove(id).catch(() => undefined);
      throw e;
    }
  }

  private async running(id: string, name: string, spec: TargetSpec): Promise<LiveTarget> {
    const started = Date.now();
    let unplacedSince: number | undefined;
    const service: SwarmService = { ID: id, Spec: { Name: name, Labels: targetLabels(this.instance, spec) } };
    for (;;) {
      const [tasks, nodes] = await Promise.all([this.tasksOf([id]), this.nodes()]);
      const target = toTarget(service, tasks, nodes);
      if (target?.running && (target.address || spec.worker)) return target;
      // A task that ended (it exited, or its node refused it) is the answer: Swarm would only start it
      // again and again.
      const task = newestFirst(tasks).find((t) => taskProblem(t)?.ended) ?? currentTask(tasks);
      const problem = taskProblem(task);
      if (problem?.ended) {
        const node = task?.NodeID ? (nodes.get(task.NodeID)?.Description?.Hostname ?? task.NodeID) : 'no node';
        throw new SwitchyardError('CreateFailed', `service ${name}: its task ${problem.why} (on ${node})`, {
          hint: /No such image/i.test(problem.why) ? 'an image built or loaded on the manager is not on the other nodes: push it to a registry, or load it on every node' : 'see `docker service ps --no-trunc` for the task',
        });
      }
      if (problem && !problem.ended) unplacedSince ??= Date.now();
      else unplacedSince = undefined;
      if (unplacedSince !== undefined && Date.now() - unplacedSince >= this.unplacedMs) {
        throw new SwitchyardError('CreateFailed', `service ${name}: no node can run it: ${problem!.why}`, {
          hint: "check placement.constraints against the nodes' labels (docker node inspect), and that enough nodes are active for maxReplicasPerNode",
        });
      }
      if (Date.now() - started >= this.actionTimeoutMs) {
        throw new SwitchyardError('CreateFailed', `service ${name}: its task did not run within ${this.actionTimeoutMs} ms (${task?.Status?.State ?? 'no task yet'})`, { retry: 'transient' });
      }
      await new Promise((r) => setTimeout(r, this.startPollMs));
    }
  }

  /** Nodes that already run maxReplicasPerNode targets of this app and color (of this spec). */
  private async fullNodes(spec: TargetSpec): Promise<string[]> {
    const services = (await this.read('list services', () => this.docker.listServices({ filters: { label: [`${LABEL.instance}=${this.instance}`, `${LABEL.app}=${spec.app}`, `${LABEL.color}=${spec.color}`, `${LABEL.spec}=${spec.specHash}`] } }))) as SwarmService[];
    if (!services.length) return [];
    const perNode = new Map<string, number>();
    const byService = new Map<string, SwarmTask[]>();
    for (const t of await this.tasksOf(services.map((s) => s.ID))) byService.set(t.ServiceID, [...(byService.get(t.ServiceID) ?? []), t]);
    for (const tasks of byService.values()) {
      const node = currentTask(tasks)?.NodeID;
      if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
    return [...perNode].filter(([, n]) => n >= spec.placement!.maxReplicasPerNode!).map(([node]) => node);
  }

  async remove(id: string): Promise<void> {
    try {
      await bounded('remove service', this.docker.getService(id).remove(), this.actionTimeoutMs);
    } catch (e) {
      if (statusOf(e) !== 404) throw unavailable('remove service', e);
    }
  }

  /** A target's output, gathered by the manager from its tasks' nodes, each line prefixed with `prefix`. */
  logs(id: string, out: NodeJS.WritableStream, opts: LogOptions): Promise<void> {
    return targetLogs(this.docker, this.docker.getService(id), out, opts, this.readTimeoutMs);
  }

  watch(onEvent: (e: TargetEvent) => void, signal: AbortSignal): Promise<void> {
    const probed = async () => {
      await this.nodeWatch.check(this.known.filter((n) => n.ID !== this.self && n.Status?.State === 'ready').flatMap((n) => n.Status?.Addr ?? []));
      return this.list();
    };
    return followTasks(this.docker, probed, onEvent, signal);
  }

  private async tasksOf(serviceIds: string[]): Promise<SwarmTask[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < serviceIds.length; i += TASK_FILTER_CHUNK) chunks.push(serviceIds.slice(i, i + TASK_FILTER_CHUNK));
    const lists = await Promise.all(chunks.map((ids) => this.read('list tasks', () => this.docker.listTasks({ filters: { service: ids } }))));
    return lists.flat() as SwarmTask[];
  }

  /** The nodes as the manager sees them, but one the agent found unreachable reads as down. */
  private async nodes(): Promise<Map<string, SwarmNode>> {
    this.known = (await this.read('list nodes', () => this.docker.listNodes())) as SwarmNode[];
    const seen = (n: SwarmNode): SwarmNode => (this.nodeWatch.lost(n.Status?.Addr) && n.ID !== this.self ? { ...n, Status: { ...n.Status, State: 'unreachable' } } : n);
    return new Map(this.known.map((n) => [n.ID, seen(n)]));
  }

  private read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return engineRead(what, fn, this.readTimeoutMs);
  }
}
