// From an app's desired color to the container specs it needs. The spec hash covers exactly what
// requires a new container when it changes (everything about the container, not replicas or health),
// so a change of anything else never restarts one. Env values read from files are covered through their
// keyed digest (secretDigest), never as they are: rotating a secret file rolls the targets, and the hash
// in a container's name says nothing about the secret.
import { createHash } from 'node:crypto';
import type { AppSpec, Color, WorkerSpec } from '../core/app.js';
import type { TargetSpec } from '../core/target.js';

export function specHash(app: AppSpec, color: Color): string {
  const c = app.colors[color];
  const sorted = (o: Record<string, string>) => Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
  // Only settings that differ from their defaults, after image, env and port in that order: a spec that
  // uses none of the newer fields hashes as it always did, so upgrading Switchyard replaces nothing.
  const extras = {
    command: c.command,
    args: c.args,
    resources: Object.keys(c.resources).length ? c.resources : undefined,
    volumes: c.volumes.length ? c.volumes : undefined,
    labels: Object.keys(c.labels).length ? sorted(c.labels) : undefined,
    privileged: c.privileged || undefined,
    network: c.network === 'host' ? c.network : undefined,
    pid: c.pid,
    capAdd: c.capAdd.length ? c.capAdd : undefined,
    devices: c.devices.length ? c.devices : undefined,
    placement: c.placement,
  };
  const plain = Object.fromEntries(Object.entries(c.env).filter(([name]) => !(name in c.envFiles)));
  return createHash('sha256')
    .update(JSON.stringify({ image: c.image, env: sorted(plain), port: app.port, ...extras, secrets: c.secretDigest }))
    .digest('hex')
    .slice(0, 16);
}

export function targetSpec(app: AppSpec, color: Color, replica: number, commit: string): TargetSpec {
  const { replicas: _replicas, envFiles: _files, secretDigest: _digest, ...container } = app.colors[color];
  // Every target learns which app and color it is (e.g. to say so in a response or a log line).
  const env = { ...container.env, SWITCHYARD_APP: app.name, SWITCHYARD_COLOR: color };
  return { ...container, app: app.name, color, replica, specHash: specHash(app, color), commit, env, port: app.port };
}

/** A worker's container: the active color's image and settings, with the worker's command and env. */
export function workerSpec(app: AppSpec, worker: WorkerSpec, replica: number, commit: string): TargetSpec {
  const base = targetSpec(app, app.active, replica, commit);
  const hash = createHash('sha256').update(JSON.stringify({ color: base.specHash, worker })).digest('hex').slice(0, 16);
  return {
    ...base,
    worker: worker.name,
    specHash: hash,
    env: { ...base.env, ...worker.env, SWITCHYARD_WORKER: worker.name },
    ...(worker.command ? { command: worker.command } : {}),
    ...(worker.args ? { args: worker.args } : {}),
  };
}
