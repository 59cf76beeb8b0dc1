// The labels that mark a container as Switchyard's. Live state is rebuilt from these after any restart,
// and a container without the instance label is never touched.
import { randomBytes } from 'node:crypto';
import type { Color } from '../../core/app.js';
import type { TargetSpec } from '../../core/target.js';

export const LABEL = {
  instance: 'dev.switchyard.instance',
  app: 'dev.switchyard.app',
  color: 'dev.switchyard.color',
  spec: 'dev.switchyard.spec-hash',
  commit: 'dev.switchyard.commit',
  replica: 'dev.switchyard.replica',
  port: 'dev.switchyard.port',
  worker: 'dev.switchyard.worker',
} as const;

export function targetLabels(instance: string, spec: TargetSpec): Record<string, string> {
  return {
    [LABEL.instance]: instance,
    [LABEL.app]: spec.app,
    [LABEL.color]: spec.color,
    [LABEL.spec]: spec.specHash,
    [LABEL.commit]: spec.commit,
    [LABEL.replica]: String(spec.replica),
    [LABEL.port]: String(spec.port),
    ...(spec.worker ? { [LABEL.worker]: spec.worker } : {}),
  };
}

export interface ParsedLabels {
  app: string;
  color: Color;
  specHash: string;
  commit: string;
  replica: number;
  port: number;
  worker?: string;
}

/** The labels of one of our containers, or undefined when they are incomplete (then it is left alone). */
export function parseLabels(labels: Record<string, string> | undefined): ParsedLabels | undefined {
  if (!labels) return undefined;
  const color = labels[LABEL.color];
  const replica = Number(labels[LABEL.replica]);
  const port = Number(labels[LABEL.port]);
  const app = labels[LABEL.app];
  if (!app || (color !== 'blue' && color !== 'green') || !Number.isInteger(replica) || !Number.isInteger(port)) return undefined;
  const worker = labels[LABEL.worker];
  return { app, color, specHash: labels[LABEL.spec] ?? '', commit: labels[LABEL.commit] ?? '', replica, port, ...(worker ? { worker } : {}) };
}

/**
 * A readable name, unique per container: the replacement of a stopped target has the same app, color,
 * replica and spec, and may need to be created while the old container still exists (it is removed only
 * once the new one serves, or its removal failed while the engine was going down).
 */
export function containerName(instance: string, spec: TargetSpec): string {
  const role = spec.worker ? `${spec.worker}-` : '';
  return `sy-${instance}-${spec.app}-${role}${spec.color}-${spec.replica}-${spec.specHash.slice(0, 8)}-${randomBytes(3).toString('hex')}`;
}
