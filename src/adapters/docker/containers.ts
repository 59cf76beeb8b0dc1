// The Runtime on a real Docker engine (dockerode): the containers of this agent's targets. Only
// containers labelled with this agent's instance are listed, changed or removed. Ports are published on
// the bind host (127.0.0.1) at ephemeral ports. Images (images.ts), events (events.ts), logs (logs.ts) and
// the engine's failures (engine-errors.ts) each have their own module.
import type Docker from 'dockerode';
import { SwitchyardError } from '../../core/errors.js';
import type { Runtime, TargetEvent } from '../../core/runtime.js';
import type { LiveTarget, TargetSpec } from '../../core/target.js';
import { bounded, createError, engineRead, statusOf, unavailable } from './engine-errors.js';
import { watchEvents } from './events.js';
import { Images, type ContextReader, type RegistryCredentials } from './images.js';
import { targetLogs, type LogOptions } from './logs.js';
import { containerName, LABEL, parseLabels, targetLabels } from './labels.js';
import { Volumes } from './volumes.js';

const STOP_GRACE_SECONDS = 10;

export interface DockerRuntimeOptions {
  /** Where targets publish their ports (default 127.0.0.1). */
  bindHost?: string;
  /** Per-registry credentials for pulls (from the agent config). */
  credentials?: RegistryCredentials;
  /** Reads `build:` contexts from the repository. */
  readContext?: ContextReader;
  /** How long a read (list, inspect, logs) may wait for the engine (default READ_TIMEOUT_MS). */
  readTimeoutMs?: number;
  /** How long a create, start, stop or remove may wait for the engine (default ACTION_TIMEOUT_MS). */
  actionTimeoutMs?: number;
  /** How long an image pull may go without progress (default PULL_IDLE_TIMEOUT_MS). */
  pullIdleTimeoutMs?: number;
  /** The network of a build's RUN steps (the policy's buildNetwork; default: the engine's). */
  buildNetwork?: 'default' | 'none';
  /** Named volumes mounted as they are (the policy's externalVolumes); the others are the app's own (volumes.ts). */
  externalVolumes?: readonly string[];
  /** Called right before a container is created; throws to refuse it (the host policy's last word on mounts). */
  beforeCreate?: (spec: TargetSpec) => void;
}

// The bounds are far above what a healthy engine takes. Builds are left unbounded: a build step may be
// silent for long.
export const READ_TIMEOUT_MS = 30_000;
export const ACTION_TIMEOUT_MS = 120_000;
export const PULL_IDLE_TIMEOUT_MS = 300_000;

export class DockerRuntime implements Runtime {
  private readonly images: Images;
  private readonly volumes: Volumes;
  private readonly bindHost: string;
  private readonly readTimeoutMs: number;
  private readonly actionTimeoutMs: number;
  private readonly beforeCreate: ((spec: TargetSpec) => void) | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly instance: string,
    opts: DockerRuntimeOptions = {},
  ) {
    this.bindHost = opts.bindHost ?? '127.0.0.1';
    this.readTimeoutMs = opts.readTimeoutMs ?? READ_TIMEOUT_MS;
    this.actionTimeoutMs = opts.actionTimeoutMs ?? ACTION_TIMEOUT_MS;
    this.beforeCreate = opts.beforeCreate;
    this.volumes = new Volumes(docker, instance, opts.externalVolumes ?? [], this.actionTimeoutMs);
    this.images = new Images(docker, instance, { credentials: opts.credentials ?? {}, readContext: opts.readContext, pullIdleTimeoutMs: opts.pullIdleTimeoutMs ?? PULL_IDLE_TIMEOUT_MS, buildNetwork: opts.buildNetwork ?? 'default' });
  }

  async list(): Promise<LiveTarget[]> {
    const infos = await this.call('list containers', () =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL.instance}=${this.instance}`] } }),
    );
    const targets: LiveTarget[] = [];
    for (const info of infos) {
      const labels = parseLabels(info.Labels);
      if (!labels) continue;
      const published = info.Ports.find((p) => p.PrivatePort === labels.port && p.Type === 'tcp' && p.PublicPort && p.IP === this.bindHost);
      const running = info.State === 'running';
      // On the host network the app's own port is the address; nothing is published.
      const port = info.HostConfig?.NetworkMode === 'host' ? labels.port : published?.PublicPort;
      const health = healthFromStatus(info.Status);
      targets.push({
        id: info.Id,
        name: (info.Names[0] ?? '').replace(/^\//, ''),
        ...labels,
        running,
        state: info.State,
        ...(running && port ? { address: { host: this.bindHost, port } } : {}),
        ...(health ? { health } : {}),
      });
    }
    return targets;
  }

  async create(spec: TargetSpec): Promise<LiveTarget> {
    this.beforeCreate?.(spec);
    const portKey = `${spec.port}/tcp`;
    const name = containerName(this.instance, spec);
    let container: Docker.Container;
    const hostNetwork = spec.network === 'host';
    // A worker takes no traffic: nothing is published for it.
    const publish = !hostNetwork && !spec.worker;
    const mounts: Docker.MountSettings[] = [];
    for (const v of spec.volumes) {
      const source = v.name ? await this.volumes.source(spec.app, v.name) : v.hostPath!;
      mounts.push({ Type: v.name ? 'volume' : 'bind', Source: source, Target: v.path, ReadOnly: v.readOnly });
    }
    try {
      container = await this.createPulling(spec, {
        name,
        Image: spec.image,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        // The user's labels first: ours (the ownership marks) always win.
        Labels: { ...spec.labels, ...targetLabels(this.instance, spec) },
        ...(spec.command ? { Entrypoint: spec.command } : {}),
        ...(spec.args ? { Cmd: spec.args } : {}),
        ...(publish ? { ExposedPorts: { [portKey]: {} } } : {}),
        HostConfig: {
          ...(hostNetwork ? { NetworkMode: 'host' } : {}),
          ...(publish ? { PortBindings: { [portKey]: [{ HostIp: this.bindHost, HostPort: '' }] } } : {}),
          // Docker restarts a crashed target (with its own backoff) even while the agent is down.
          RestartPolicy: { Name: 'unless-stopped' },
          // A tiny init as PID 1 forwards SIGTERM to the app, so a stop is graceful and quick even for
          // processes that never installed a signal handler (PID 1 ignores signals by default).
          Init: true,
          ...(spec.resources.memoryBytes ? { Memory: spec.resources.memoryBytes } : {}),
          ...(spec.resources.cpus ? { NanoCpus: Math.round(spec.resources.cpus * 1e9) } : {}),
          Mounts: mounts,
          // Allowed only where the agent's policy said so (checked when the commit was loaded).
          Privileged: spec.privileged,
          ...(spec.pid ? { PidMode: spec.pid } : {}),
          ...(spec.capAdd.length ? { CapAdd: spec.capAdd } : {}),
          ...(spec.devices.length ? { Devices: spec.devices.map((d) => ({ PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm' })) } : {}),
        },
      });
    } catch (e) {
      throw createError(name, e);
    }
    try {
      await bounded('start container', container.start(), this.actionTimeoutMs);
    } catch (e) {
      await container.remove({ force: true }).catch(() => undefined);
      throw createError(name, e);
    }
    const live = await this.inspect(container.id);
    if (!live) throw new SwitchyardError('CreateFailed', `container ${name} vanished right after it started`, { retry: 'transient' });
    return live;
  }

  /** Creates the container; when its image is not on the host, provides it (build or pull) once, and tries again. */
  private async createPulling(spec: TargetSpec, options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    try {
      return await bounded('create container', this.docker.createContainer(options), this.actionTimeoutMs);
    } catch (e) {
      if (!(statusOf(e) === 404 && /image/i.test((e as Error).message ?? ''))) throw e;
    }
    await this.images.provide(spec);
    return bounded('create container', this.docker.createContainer(options), this.actionTimeoutMs);
  }

  async inspect(id: string): Promise<LiveTarget | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await bounded('inspect container', this.docker.getContainer(id).inspect(), this.readTimeoutMs);
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw unavailable('inspect container', e);
    }
    const labels = parseLabels(info.Config.Labels);
    if (!labels || info.Config.Labels[LABEL.instance] !== this.instance) return undefined;
    const binding = info.NetworkSettings.Ports?.[`${labels.port}/tcp`]?.find((b) => b.HostIp === this.bindHost);
    // A paused container is Running to Docker, but it answers nothing: like the listing, not running.
    const running = info.State.Running && !info.State.Restarting && !info.State.Paused;
    const port = info.HostConfig.NetworkMode === 'host' ? labels.port : Number(binding?.HostPort ?? 0);
    const health = info.State.Health?.Status;
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      ...labels,
      running,
      state: info.State.Restarting ? 'restarting' : info.State.Status,
      ...(running && port ? { address: { host: this.bindHost, port } } : {}),
      ...(health === 'starting' || health === 'healthy' || health === 'unhealthy' ? { health } : {}),
      restarts: info.RestartCount,
      exitCode: info.State.ExitCode,
      ...(info.State.OOMKilled ? { oomKilled: true } : {}),
    };
  }

  async remove(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    try {
      await bounded('stop container', container.stop({ t: STOP_GRACE_SECONDS }), this.actionTimeoutMs);
    } catch (e) {
      // 304: already stopped; 404: already gone. Both are the state we want.
      if (statusOf(e) === 404) return;
      if (statusOf(e) !== 304) throw unavailable('stop container', e);
    }
    try {
      await bounded('remove container', container.remove({ force: true }), this.actionTimeoutMs);
    } catch (e) {
      const status = statusOf(e);
      // 409: removal already in progress.
      if (status !== 404 && status !== 409) throw unavailable('remove container', e);
    }
  }

  /** A target's output, each line prefixed with `prefix` (see logs.ts). */
  logs(id: string, out: NodeJS.WritableStream, opts: LogOptions): Promise<void> {
    return targetLogs(this.docker, this.docker.getContainer(id), out, opts, this.readTimeoutMs);
  }

  watch(onEvent: (e: TargetEvent) => void, signal: AbortSignal): Promise<void> {
    const listed = async (id: string) => {
      const [info] = await this.call('list containers', () => this.docker.listContainers({ all: true, filters: { id: [id] } }));
      return info?.State;
    };
    return watchEvents(this.docker, this.instance, onEvent, signal, listed);
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return engineRead(what, fn, this.readTimeoutMs);
  }
}

/** Docker's health verdict as `docker ps` words it: "Up 3 minutes (unhealthy)", "Up 2 seconds (health: starting)". */
function healthFromStatus(status: string): LiveTarget['health'] {
  if (status.includes('(unhealthy)')) return 'unhealthy';
  if (status.includes('(healthy)')) return 'healthy';
  if (status.includes('(health: starting)')) return 'starting';
  return undefined;
}
