// From an app's desired color to the container specs it needs. The spec hash covers exactly what
// requires a new container when it changes (everything about the container, not replicas or health),
// so a change of anything else never restarts one. Env values read from files are in `env` by then, so
// rotating a secret file rolls the targets.
import { createHash } from 'node:crypto';
import type { AppSpec, Color } from '../desired/app.js';
import type { TargetSpec } from '../runtime/target.js';

export function specHash(app: AppSpec, color: Color): string {
  const { replicas: _replicas, envFiles: _files, env, labels, ...container } = app.colors[color];
  const sorted = (o: Record<string, string>) => Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify({ ...container, env: sorted(env), labels: sorted(labels), port: app.port }))
    .digest('hex')
    .slice(0, 16);
}

export function targetSpec(app: AppSpec, color: Color, replica: number, commit: string): TargetSpec {
  const { replicas: _replicas, envFiles: _files, ...container } = app.colors[color];
  // Every target learns which app and color it is (e.g. to say so in a response or a log line).
  const env = { ...container.env, SWITCHYARD_APP: app.name, SWITCHYARD_COLOR: color };
  return { ...container, app: app.name, color, replica, specHash: specHash(app, color), commit, env, port: app.port };
}
