// What one target becomes on a swarm: a service of one replica. Swarm keeps that replica running
// (rescheduling it when its node is lost or drained); Switchyard decides when it exists at all, so that
// a target leaves the route and drains before anything stops it. A service of N replicas would not do:
// on a scale-down or an update Swarm picks the task it stops, and stops it before the route has moved.
//
// The task publishes the app's port in host mode, at a port the node picks: the data plane reaches it at
// the node's own address, never through the ingress mesh (whose VIP keeps dead tasks and cuts kept-alive
// connections: moby #33790, #31174).
import { createHash, randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import type { TargetSpec } from '../../../core/target.js';
import { targetLabels } from '../labels.js';

/** How long a task has after SIGTERM before SIGKILL, as on the docker runtime (nanoseconds). */
const STOP_GRACE_NS = 10e9;
/** Swarm restarts a task that exits after this pause (nanoseconds), so a crash loop does not spin. */
const RESTART_DELAY_NS = 1e9;
/** Service names are DNS labels: at most 63 characters. */
const MAX_NAME = 63;

/**
 * A readable name, unique per target: sy-INSTANCE-APP-[WORKER-]COLOR-REPLICA-HASH-RANDOM, with the app
 * and instance shortened (and a digest of what was cut kept) when the whole would be too long.
 */
export function serviceName(instance: string, spec: TargetSpec): string {
  const role = spec.worker ? `${spec.worker}-` : '';
  const tail = `${role}${spec.color}-${spec.replica}-${spec.specHash.slice(0, 8)}-${randomBytes(3).toString('hex')}`;
  const head = `sy-${instance}-${spec.app}-`;
  if (head.length + tail.length <= MAX_NAME) return head + tail;
  const digest = createHash('sha256').update(head).digest('hex').slice(0, 6);
  return `${head.slice(0, MAX_NAME - tail.length - digest.length - 2)}-${digest}-${tail}`.replace(/--+/g, '-');
}

/**
 * The service of one target. `image` is the reference every node runs (pinned: see images.ts); `avoid`
 * the nodes that already hold maxReplicasPerNode targets of its app and color (Swarm's own MaxReplicas
 * counts the tasks of one service, and each of ours has one).
 */
export function serviceSpec(instance: string, spec: TargetSpec, name: string, image: string, mounts: Docker.MountSettings[], avoid: readonly string[] = []): Docker.CreateServiceOptions {
  // The user's labels first: ours (the ownership marks) always win. The containers carry them too, so
  // `docker ps` on any node tells whose they are.
  const labels = { ...spec.labels, ...targetLabels(instance, spec) };
  const publish = !spec.worker;
  return {
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        Labels: labels,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        ...(spec.command ? { Command: spec.command } : {}),
        ...(spec.args ? { Args: spec.args } : {}),
        // As on the docker runtime: a tiny init forwards SIGTERM, so a stop is graceful and quick.
        Init: true,
        Mounts: mounts,
        StopGracePeriod: STOP_GRACE_NS,
        ...(spec.capAdd.length ? { CapabilityAdd: spec.capAdd } : {}),
      },
      Resources: {
        Limits: {
          ...(spec.resources.memoryBytes ? { MemoryBytes: spec.resources.memoryBytes } : {}),
          ...(spec.resources.cpus ? { NanoCPUs: Math.round(spec.resources.cpus * 1e9) } : {}),
        },
      },
      RestartPolicy: { Condition: 'any', Delay: RESTART_DELAY_NS, MaxAttempts: 0 },
      Placement: { Constraints: [...(spec.placement?.constraints ?? []), ...avoid.map((node) => `node.id!=${node}`)] },
    },
    Mode: { Replicated: { Replicas: 1 } },
    ...(publish ? { EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: spec.port, PublishMode: 'host' }] } } : {}),
  };
}
