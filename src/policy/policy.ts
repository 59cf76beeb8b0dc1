// The host-safety policy: what a repository may ask of this host. It lives in the agent's own
// configuration, never in the repository, so a pull request cannot widen it. Everything that can
// give a container power over the host is denied unless the operator allows it.
import { posix } from 'node:path';
import { COLORS, type AppSpec } from '../core/app.js';
import { SwitchyardError, type Location } from '../core/errors.js';
import { isUnder } from '../core/host-path.js';

export interface Policy {
  allowPrivileged: boolean;
  allowHostNetwork: boolean;
  allowHostPid: boolean;
  /** Linux capabilities a container may add. */
  allowCapAdd: string[];
  allowDevices: boolean;
  /** Mounting the Docker socket is root on the host: its own switch, off even when its folder is allowed. */
  allowDockerSocket: boolean;
  /** Host folders that volumes may mount (bind mounts). */
  bindMountPaths: string[];
  /** Host folders that env values may be read from ({ file: PATH }). */
  envFilePaths: string[];
  /** Image name prefixes that may run (e.g. "registry.example.com/"); absent: any image. */
  images?: string[];
}

export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  allowPrivileged: false,
  allowHostNetwork: false,
  allowHostPid: false,
  allowCapAdd: [],
  allowDevices: false,
  allowDockerSocket: false,
  bindMountPaths: [],
  envFilePaths: ['/etc/switchyard/secrets'],
});

/** Where a color's field was written (the color's own block, or the shared top of the file). */
export type FieldLocator = (color: (typeof COLORS)[number], key: string, more?: (string | number)[]) => Location;

export function checkPolicy(app: AppSpec, policy: Policy, at: FieldLocator): SwitchyardError[] {
  const errors = new Map<string, SwitchyardError>();
  const deny = (loc: Location, rule: keyof Policy, message: string, hint: string) => {
    const key = `${loc.line}:${loc.col}:${rule}:${message}`;
    if (!errors.has(key)) {
      errors.set(key, new SwitchyardError('PolicyDenied', `${message}: denied by the agent's policy (rule "${rule}")`, { location: loc, hint }));
    }
  };
  const ask = (rule: keyof Policy) => `remove it, or ask an operator to allow it in the agent's config (policy.${rule})`;
  for (const color of COLORS) {
    const c = app.colors[color];
    if (c.replicas === 0 && color !== app.active) continue;
    if (c.privileged && !policy.allowPrivileged) deny(at(color, 'privileged'), 'allowPrivileged', 'privileged mode', ask('allowPrivileged'));
    if (c.network === 'host' && !policy.allowHostNetwork) deny(at(color, 'network'), 'allowHostNetwork', 'the host network', ask('allowHostNetwork'));
    if (c.pid === 'host' && !policy.allowHostPid) deny(at(color, 'pid'), 'allowHostPid', "the host's process namespace", ask('allowHostPid'));
    c.capAdd.forEach((cap, i) => {
      if (!policy.allowCapAdd.includes(cap)) deny(at(color, 'capAdd', [i]), 'allowCapAdd', `capability ${cap}`, ask('allowCapAdd'));
    });
    if (c.devices.length && !policy.allowDevices) deny(at(color, 'devices'), 'allowDevices', 'host devices', ask('allowDevices'));
    c.volumes.forEach((v, i) => {
      if (!v.hostPath) return;
      const path = posix.normalize(v.hostPath);
      if (/(^|\/)docker\.sock$/.test(path) || path === '/var/run' || path === '/run' || isUnder('/var/run/docker.sock', path)) {
        const what = /docker\.sock$/.test(path) ? `mounting the Docker socket (${v.hostPath})` : `mounting ${v.hostPath}, which holds the Docker socket`;
        if (!policy.allowDockerSocket) deny(at(color, 'volumes', [i, 'hostPath']), 'allowDockerSocket', what, 'a container with the Docker socket is root on the host; run such tools outside Switchyard');
      } else if (!policy.bindMountPaths.some((p) => isUnder(path, p))) {
        deny(at(color, 'volumes', [i, 'hostPath']), 'bindMountPaths', `host path ${v.hostPath}`, `use a named volume, or a path under ${policy.bindMountPaths.join(', ') || '(none allowed)'}`);
      }
    });
    for (const [name, f] of Object.entries(c.envFiles)) {
      if (!policy.envFilePaths.some((p) => isUnder(posix.normalize(f.file), p))) {
        deny(at(color, 'env', [name, 'file']), 'envFilePaths', `reading ${f.file} into ${name}`, `put the file under ${policy.envFilePaths.join(', ') || '(none allowed)'}`);
      }
    }
    if (policy.images && !policy.images.some((p) => c.image.startsWith(p))) {
      deny(at(color, 'image'), 'images', `image ${c.image}`, `use an image from ${policy.images.join(', ')}`);
    }
  }
  return [...errors.values()];
}
