// The labels that mark a container as Switchyard's. Live state is rebuilt from these after any restart,
// and a container without the instance label is never touched.
import type { Color } from '../desired/app.js';
import type { TargetSpec } from './target.js';

export const LABEL = {
  instance: 'dev.switchyard.instance',
  app: 'dev.switchyard.app',
  color: 'dev.switchyard.color',
  spec: 'dev.switchyard.spec-hash',
  commit: 'dev.switchyard.commit',
  replica: 'dev.switchyard.replica',
  port: 'dev.switchyard.port',
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
  };
}

export interface ParsedLabels {
  app: string;
  color: Color;
  specHash: string;
  commit: string;
  replica: number;
  port: number;
}

/** The labels of one of our containers, or undefined when they are incomplete (then it is left alone). */
export function parseLabels(labels: Record<string, string> | undefined): ParsedLabels | undefined {
  if (!labels) return undefined;
  const color = labels[LABEL.color];
  const replica = Number(labels[LABEL.replica]);
  const port = Number(labels[LABEL.port]);
  const app = labels[LABEL.app];
  if (!app || (color !== 'blue' && color !== 'green') || !Number.isInteger(replica) || !Number.isInteger(port)) return undefined;
  return { app, color, specHash: labels[LABEL.spec] ?? '', commit: labels[LABEL.commit] ?? '', replica, port };
}

export function containerName(instance: string, spec: TargetSpec): string {
  return `sy-${instance}-${spec.app}-${spec.color}-${spec.replica}-${spec.specHash.slice(0, 8)}`;
}
