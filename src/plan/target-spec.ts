// From an app's desired color to the container specs it needs. The spec hash covers exactly what
// requires a new container when it changes (image, env, port), so anything else never restarts one.
import { createHash } from 'node:crypto';
import type { AppSpec, Color } from '../desired/app.js';
import type { TargetSpec } from '../runtime/target.js';

export function specHash(app: AppSpec, color: Color): string {
  const c = app.colors[color];
  const env = Object.entries(c.env).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify({ image: c.image, env, port: app.port })).digest('hex').slice(0, 16);
}

export function targetSpec(app: AppSpec, color: Color, replica: number, commit: string): TargetSpec {
  const c = app.colors[color];
  // Every target learns which app and color it is (e.g. to say so in a response or a log line).
  const env = { ...c.env, SWITCHYARD_APP: app.name, SWITCHYARD_COLOR: color };
  return { app: app.name, color, replica, specHash: specHash(app, color), commit, image: c.image, env, port: app.port };
}
