// Env values read from files on the agent's host ({ file: PATH } in an app file). Resolved on every
// pass, so that rotating a secret file rolls the app's targets (the value is part of the spec hash).
// The values never leave memory except into the containers' environment.
import { createHmac } from 'node:crypto';
import { SwitchyardError } from '../core/errors.js';
import type { DesiredState } from '../core/app.js';
import type { SecretReader } from '../core/stores.js';

/**
 * The desired state with env files read. An app with a file that cannot be read keeps its spec as it was
 * loaded and gets its errors: the agent leaves that app as it is this pass (never prunes it), and goes on
 * with the others.
 */
export async function resolveEnvFiles(state: DesiredState, reader: SecretReader): Promise<{ state: DesiredState; errors: Map<string, SwitchyardError[]> }> {
  const errors = new Map<string, SwitchyardError[]>();
  const apps = await Promise.all(
    state.apps.map(async (app) => {
      const colors = { ...app.colors };
      const failed: SwitchyardError[] = [];
      for (const [color, spec] of Object.entries(app.colors) as [keyof typeof colors, (typeof colors)['blue']][]) {
        if (!Object.keys(spec.envFiles).length) continue;
        const env = { ...spec.env };
        const digest = createHmac('sha256', reader.hashKey ?? new Uint8Array());
        for (const [name, f] of Object.entries(spec.envFiles).sort(([a], [b]) => a.localeCompare(b))) {
          try {
            env[name] = (await reader.read(f.file)).replace(/\r?\n$/, '');
            digest.update(`${name}\0${env[name]}\0`);
          } catch (e) {
            failed.push(new SwitchyardError('SecretUnavailable', `cannot read ${f.file} for ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
              location: { file: app.file, field: f.field },
              hint: "create the file on the agent's host, readable by the agent",
            }));
          }
        }
        colors[color] = { ...spec, env, secretDigest: digest.digest('hex') };
      }
      if (!failed.length) return { ...app, colors };
      errors.set(app.name, failed);
      return app;
    }),
  );
  return { state: { ...state, apps }, errors };
}
