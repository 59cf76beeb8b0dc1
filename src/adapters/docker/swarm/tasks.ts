// A target on a swarm, read from what the manager says: the service (ours by its labels), its newest
// task, and the node that task is on. Pure, so every case is a table test.
//
// A target runs when its task runs on a node that is up and not draining: a task on a node that Swarm is
// draining or has lost leaves the route at once, before Swarm has even started its replacement. A service
// whose task does not run is Swarm's to bring back (rescheduling is not ours): it reads as `restarting`,
// which holds its replica and keeps it out of the route until it runs again and passes the gate.
import type { LiveTarget } from '../../../core/target.js';
import { parseLabels } from '../labels.js';

export interface SwarmService {
  ID: string;
  Spec?: { Name?: string; Labels?: Record<string, string> };
}

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  DesiredState?: string;
  CreatedAt?: string;
  Version?: { Index?: number };
  Status?: {
    State?: string;
    Err?: string;
    Message?: string;
    ContainerStatus?: { ExitCode?: number };
    PortStatus?: { Ports?: { TargetPort?: number; PublishedPort?: number; Protocol?: string }[] };
  };
}

export interface SwarmNode {
  ID: string;
  Description?: { Hostname?: string };
  Spec?: { Availability?: string };
  Status?: { State?: string; Addr?: string };
}

/** Task states after which a task never runs again (Swarm starts a new task instead). */
const ENDED = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);

/** How a task ends when its process failed, or its node could not start it. */
const CRASHED = new Set(['failed', 'rejected']);

/** The newest task first: the one Swarm is working on now. */
export function newestFirst(tasks: readonly SwarmTask[]): SwarmTask[] {
  return [...tasks].sort((a, b) => (b.Version?.Index ?? 0) - (a.Version?.Index ?? 0) || (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? ''));
}

/** The task Swarm means to run now: the newest one that should be running, else the newest one. */
export function currentTask(tasks: readonly SwarmTask[]): SwarmTask | undefined {
  const ordered = newestFirst(tasks);
  return ordered.find((t) => t.DesiredState === 'running') ?? ordered[0];
}

/** Whether a node can serve now: up, and not being drained. */
export function nodeServes(node: SwarmNode | undefined): boolean {
  return node?.Status?.State === 'ready' && node.Spec?.Availability !== 'drain';
}

/** The target a service of ours is, or undefined when its labels are not ours (then it is left alone). */
export function toTarget(service: SwarmService, tasks: readonly SwarmTask[], nodes: ReadonlyMap<string, SwarmNode>): LiveTarget | undefined {
  const labels = parseLabels(service.Spec?.Labels);
  if (!labels) return undefined;
  const task = currentTask(tasks);
  const node = task?.NodeID ? nodes.get(task.NodeID) : undefined;
  const running = task?.Status?.State === 'running' && task.DesiredState === 'running' && nodeServes(node);
  const published = task?.Status?.PortStatus?.Ports?.find((p) => p.TargetPort === labels.port && (p.Protocol ?? 'tcp') === 'tcp')?.PublishedPort;
  const host = node?.Status?.Addr;
  // The tasks before this one, newest first: failed ones are restarts; the last one says whether this
  // is a move (it was shut down by Swarm) or a crash (it failed).
  const before = newestFirst(tasks.filter((t) => t !== task && ENDED.has(t.Status?.State ?? '')));
  const ended = before.filter((t) => t.Status?.State !== 'shutdown');
  const exitCode = task?.Status?.ContainerStatus?.ExitCode ?? ended[0]?.Status?.ContainerStatus?.ExitCode;
  const moving = !running && (!nodeServes(node) || !CRASHED.has(before[0]?.Status?.State ?? ''));
  return {
    id: service.ID,
    name: service.Spec?.Name ?? service.ID,
    ...labels,
    running,
    state: running ? 'running' : 'restarting',
    ...(running && host && published ? { address: { host, port: published } } : {}),
    ...(node?.Description?.Hostname ? { node: node.Description.Hostname } : {}),
    ...(moving ? { moving } : {}),
    restarts: ended.length,
    ...(exitCode !== undefined ? { exitCode } : {}),
  };
}

/** Why a new task does not run yet, or is never going to: its error, in Swarm's words. */
export function taskProblem(task: SwarmTask | undefined): { ended: boolean; why: string } | undefined {
  const state = task?.Status?.State;
  if (!task || !state) return undefined;
  const why = task.Status?.Err || task.Status?.Message || state;
  if (ENDED.has(state)) return { ended: true, why: `${state}: ${why}` };
  if (state === 'pending' && task.Status?.Err) return { ended: false, why: task.Status.Err };
  return undefined;
}
