// The host-safety policy: what a repository may ask of this host. It lives in the agent's own
// configuration, never in the repository, so a pull request cannot widen it. Everything that can
// give a container power over the host is denied unless the operator allows it.
import { COLORS, type AppSpec, type EdgeSpec } from '../core/app.js';
import { hostAllowed } from '../core/hostname.js';
import type { TargetSpec } from '../core/target.js';
import { SwitchyardError, type Location } from '../core/errors.js';
import { ENGINE_SOCKETS, isUnder, normalizePath, SYSTEM_PATHS, touches } from '../core/host-path.js';
import { TEXT_ONLY, type HostView } from '../core/host.js';

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
  /** Named volumes that exist on the host and are mounted as they are; every other named volume is the app's own. */
  externalVolumes: string[];
  /** Host names a repository may claim (exact, or `*.domain` for any name below it); absent: any name. */
  hosts?: string[];
  /** Host folders that tls.certFile and tls.keyFile may lie in. */
  certPaths: string[];
  /** Images may be built on this host from `build:` contexts of the repository. */
  allowBuilds: boolean;
  /** The network a build's RUN steps have: the engine's default, or none (then no ADD from a URL either). */
  buildNetwork: 'default' | 'none';
  /** Swarm placement constraints a repository may set, as patterns (`*`: any text). */
  placement: string[];
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
  externalVolumes: [],
  certPaths: ['/etc/switchyard/certs'],
  allowBuilds: true,
  buildNetwork: 'default',
  placement: [],
});

/** Where a color's field was written (the color's own block, or the shared top of the file). */
export type FieldLocator = (color: (typeof COLORS)[number], key: string, more?: (string | number)[]) => Location;

/**
 * What `app` asks of the host that the policy refuses. Host paths (bind mounts, env files) are judged by
 * their normalised text and, with a HostView of the real host, by what their links resolve to.
 */
export function checkPolicy(app: AppSpec, policy: Policy, at: FieldLocator, host: HostView = TEXT_ONLY): SwitchyardError[] {
  const errors = new Map<string, SwitchyardError>();
  const deny = (loc: Location, rule: keyof Policy | 'hostSystemPaths', message: string, hint: string) => {
    const key = `${loc.line}:${loc.col}:${rule}:${message}`;
    if (!errors.has(key)) {
      errors.set(key, new SwitchyardError('PolicyDenied', `${message}: denied by the agent's policy (rule "${rule}")`, { location: loc, hint }));
    }
  };
  const ask = (rule: keyof Policy) => `remove it, or ask an operator to allow it in the agent's config (policy.${rule})`;
  for (const color of COLORS) {
    const c = app.colors[color];
    if (c.replicas === 0 && color !== app.active) continue;
    const max = host.maxTargetsPerColor;
    if (max !== undefined && c.replicas > max) {
      const loc = at(color, 'replicas');
      errors.set(`${loc.line}:${loc.col}:replicas`, new SwitchyardError('ValidationFailed', `${c.replicas} replicas, more than the ${max} targets per color this host's data plane can route`, { location: loc, hint: `use at most ${max} replicas, or the embedded router (--router embedded)` }));
    }
    if (c.privileged && !policy.allowPrivileged) deny(at(color, 'privileged'), 'allowPrivileged', 'privileged mode', ask('allowPrivileged'));
    if (c.network === 'host' && !policy.allowHostNetwork) deny(at(color, 'network'), 'allowHostNetwork', 'the host network', ask('allowHostNetwork'));
    if (c.pid === 'host' && !policy.allowHostPid) deny(at(color, 'pid'), 'allowHostPid', "the host's process namespace", ask('allowHostPid'));
    c.capAdd.forEach((cap, i) => {
      if (!policy.allowCapAdd.includes(cap)) deny(at(color, 'capAdd', [i]), 'allowCapAdd', `capability ${cap}`, ask('allowCapAdd'));
    });
    if (c.build && !policy.allowBuilds) deny(at(color, 'build'), 'allowBuilds', `building an image on this host (${c.build.context})`, 'name a prebuilt image with `image`, or ask an operator to allow builds (policy.allowBuilds)');
    if (c.devices.length && !policy.allowDevices) deny(at(color, 'devices'), 'allowDevices', 'host devices', ask('allowDevices'));
    c.volumes.forEach((v, i) => {
      if (!v.hostPath) return;
      const problem = hostPathProblem(v.hostPath, policy.bindMountPaths, policy.allowDockerSocket, host);
      if (!problem) return;
      const loc = at(color, 'volumes', [i, 'hostPath']);
      if (problem.rule === 'allowDockerSocket') {
        const what = /\.sock$/.test(problem.real) ? `mounting the Docker socket (${problem.shown})` : `mounting ${problem.shown}, which holds the Docker socket`;
        deny(loc, 'allowDockerSocket', what, 'a container with the Docker socket is root on the host; run such tools outside Switchyard');
      } else if (problem.rule === 'hostSystemPaths') {
        deny(loc, 'hostSystemPaths', `mounting ${problem.shown}, which is or holds ${problem.touched}`, "the host's system folders are never mounted, whatever the policy allows; use a named volume");
      } else {
        deny(loc, 'bindMountPaths', `host path ${problem.shown}`, `use a named volume, or a path under ${policy.bindMountPaths.join(', ') || '(none allowed)'}`);
      }
    });
    for (const [name, f] of Object.entries(c.envFiles)) {
      const problem = hostPathProblem(f.file, policy.envFilePaths, false, host);
      if (problem) deny(at(color, 'env', [name, 'file']), 'envFilePaths', `reading ${problem.shown} into ${name}`, `put the file under ${policy.envFilePaths.join(', ') || '(none allowed)'}`);
    }
    if (policy.images && !policy.images.some((p) => c.image.startsWith(p))) {
      deny(at(color, 'image'), 'images', `image ${c.image}`, `use an image from ${policy.images.join(', ')}`);
    }
  }
  return [...errors.values()];
}

/**
 * What the app's edge asks of the host that the policy refuses: host names outside `policy.hosts` (so a
 * pull request cannot take another team's domain) and certificate files outside `policy.certPaths`.
 */
/** A constraint is allowed when one of the policy's patterns matches it whole (`*` stands for any text). */
export function placementAllowed(constraint: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => new RegExp(`^${p.replace(/ *(==|!=) */, '$1').split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(constraint));
}

/** The app's placement constraints that the policy does not list. */
export function checkPlacementPolicy(app: AppSpec, policy: Policy, at: (path: (string | number)[]) => Location): SwitchyardError[] {
  const constraints = app.colors[app.active].placement?.constraints ?? [];
  return constraints.flatMap((c, i) =>
    placementAllowed(c, policy.placement)
      ? []
      : [new SwitchyardError('PolicyDenied', `placement constraint ${c}: denied by the agent's policy (rule "placement")`, { location: at(['placement', 'constraints', i]), hint: `use a constraint matching ${policy.placement.join(', ') || '(none allowed)'}, or ask an operator to add it to policy.placement` })],
  );
}

export function checkEdgePolicy(edge: EdgeSpec, policy: Policy, at: (path: (string | number)[]) => Location, host: HostView = TEXT_ONLY): SwitchyardError[] {
  const errors: SwitchyardError[] = [];
  const { hosts: allowed } = policy;
  if (allowed) {
    edge.hosts.forEach((name, i) => {
      if (hostAllowed(name, allowed)) return;
      errors.push(new SwitchyardError('PolicyDenied', `host name ${name}: denied by the agent's policy (rule "hosts")`, { location: at(['hosts', i]), hint: `claim a name under ${allowed.join(', ') || '(none allowed)'}, or ask an operator to add it to policy.hosts` }));
    });
  }
  if (typeof edge.tls === 'object') {
    for (const key of ['certFile', 'keyFile'] as const) {
      const problem = hostPathProblem(edge.tls[key], policy.certPaths, false, host);
      if (problem) errors.push(new SwitchyardError('PolicyDenied', `reading ${problem.shown} as tls.${key}: denied by the agent's policy (rule "certPaths")`, { location: at(['tls', key]), hint: `put the file under ${policy.certPaths.join(', ') || '(none allowed)'}` }));
    }
  }
  return errors;
}

/**
 * Why a host path may not be used (mounted, or read as an env file), or undefined when it may: it must lie
 * in an allowed folder, both as written and as its links resolve, and must never be, hold or lie in the
 * engine's socket (unless `socketAllowed`) or the host's system folders.
 */
function hostPathProblem(
  path: string,
  allowed: readonly string[],
  socketAllowed: boolean,
  host: HostView,
): { rule: 'allowDockerSocket' | 'hostSystemPaths' | 'outside'; shown: string; real: string; touched?: string } | undefined {
  const written = normalizePath(path);
  const real = host.realpath(written);
  const shown = real === written ? path : `${path}, a link to ${real}`;
  for (const p of [written, real]) {
    if (!socketAllowed && touches(p, ENGINE_SOCKETS)) return { rule: 'allowDockerSocket', shown, real: p };
    const system = touches(p, SYSTEM_PATHS);
    if (system) return { rule: 'hostSystemPaths', shown, real: p, touched: system };
  }
  const inside = (p: string) => allowed.some((dir) => isUnder(p, dir) || isUnder(p, host.realpath(normalizePath(dir))));
  if (!inside(written) || !inside(real)) return { rule: 'outside', shown, real };
  return undefined;
}

/**
 * The bind mounts of a target checked again right before its container is created: a link planted in an
 * allowed folder after the commit was validated must not get through.
 */
export function mountProblem(spec: Pick<TargetSpec, 'app' | 'color' | 'volumes'>, policy: Policy, host: HostView): SwitchyardError | undefined {
  for (const v of spec.volumes) {
    if (!v.hostPath) continue;
    const problem = hostPathProblem(v.hostPath, policy.bindMountPaths, policy.allowDockerSocket, host);
    if (!problem) continue;
    const rule = problem.rule === 'outside' ? 'bindMountPaths' : problem.rule;
    return new SwitchyardError('PolicyDenied', `${spec.app}/${spec.color}: host path ${problem.shown} may not be mounted: denied by the agent's policy (rule "${rule}")`, {
      hint: 'the path changed on the host since the commit was checked (a symbolic link?); fix it on the host, then `switchyard sync`',
    });
  }
  return undefined;
}
