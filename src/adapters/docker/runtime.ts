// The Runtime on a real Docker engine (dockerode). Only containers labelled with this agent's instance
// are listed, changed or removed. Ports are published on the bind host (127.0.0.1) at ephemeral ports.
import Docker from 'dockerode';
import { errorMessage, SwitchyardError } from '../../core/errors.js';
import { idleAbort } from '../../core/idle-abort.js';
import { containerName, LABEL, parseLabels, targetLabels } from './labels.js';
import type { Runtime, TargetEvent } from '../../core/runtime.js';
import { tarball, type TarFile } from './tar.js';
import type { LiveTarget, TargetSpec } from '../../core/target.js';

// Debian's engine speaks API 1.41 and dockerode does not negotiate: pin it.
export const DOCKER_API_VERSION = 'v1.41';
const STOP_GRACE_SECONDS = 10;
/** The container events that wake a pass; `unhealthy` is Docker's `health_status: unhealthy`. */
const WATCHED: ReadonlySet<string> = new Set<TargetEvent['action']>(['die', 'oom', 'start', 'pause', 'unhealthy']);
/** What to ask the engine for: `health_status` matches its actions by prefix ("health_status: unhealthy"). */
const WATCH_FILTER = [...WATCHED].map((a) => (a === 'unhealthy' ? 'health_status' : a));

export function connectDocker(socketPath = dockerSocketFromEnv()): Docker {
  return new Docker({ socketPath, version: DOCKER_API_VERSION });
}

function dockerSocketFromEnv(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

export type RegistryCredentials = Record<string, { username: string; password: string }>;

/** The registry host of an image reference: its first part when that looks like a host, else Docker Hub. */
export function registryOf(image: string): string {
  const first = image.split('/')[0]!;
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** The files of a `build:` context at a commit (the source's folder()). */
export type ContextReader = (commit: string, dir: string) => Promise<TarFile[]>;

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
}

// A hung engine (it happens: a stuck storage driver, a deadlock) or a registry that stalls a pull must
// not hang the agent: a call that gets no answer in time fails as DockerUnavailable (a pull as
// ImagePullFailed), so the pass fails, backs off, and the stale alarm goes up if it lasts. The bounds are
// far above what a healthy engine takes. Builds are left unbounded: a build step may be silent for long.
export const READ_TIMEOUT_MS = 30_000;
export const ACTION_TIMEOUT_MS = 120_000;
export const PULL_IDLE_TIMEOUT_MS = 300_000;

export class DockerRuntime implements Runtime {
  /** Builds in progress by image tag: replicas that need the same image wait for one build. */
  private readonly building = new Map<string, Promise<void>>();
  private readonly bindHost: string;
  private readonly credentials: RegistryCredentials;
  private readonly readContext: ContextReader | undefined;
  private readonly readTimeoutMs: number;
  private readonly actionTimeoutMs: number;
  private readonly pullIdleTimeoutMs: number;

  constructor(
    private readonly docker: Docker,
    private readonly instance: string,
    opts: DockerRuntimeOptions = {},
  ) {
    this.bindHost = opts.bindHost ?? '127.0.0.1';
    this.credentials = opts.credentials ?? {};
    this.readContext = opts.readContext;
    this.readTimeoutMs = opts.readTimeoutMs ?? READ_TIMEOUT_MS;
    this.actionTimeoutMs = opts.actionTimeoutMs ?? ACTION_TIMEOUT_MS;
    this.pullIdleTimeoutMs = opts.pullIdleTimeoutMs ?? PULL_IDLE_TIMEOUT_MS;
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
    const portKey = `${spec.port}/tcp`;
    const name = containerName(this.instance, spec);
    let container: Docker.Container;
    const hostNetwork = spec.network === 'host';
    // A worker takes no traffic: nothing is published for it.
    const publish = !hostNetwork && !spec.worker;
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
          Mounts: spec.volumes.map((v) =>
            v.name
              ? { Type: 'volume' as const, Source: v.name, Target: v.path, ReadOnly: v.readOnly }
              : { Type: 'bind' as const, Source: v.hostPath!, Target: v.path, ReadOnly: v.readOnly },
          ),
          // Allowed only where the agent's policy said so (checked when the commit was loaded).
          Privileged: spec.privileged,
          ...(spec.pid ? { PidMode: spec.pid } : {}),
          ...(spec.capAdd.length ? { CapAdd: spec.capAdd } : {}),
          ...(spec.devices.length ? { Devices: spec.devices.map((d) => ({ PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm' })) } : {}),
        },
      });
    } catch (e) {
      throw e instanceof SwitchyardError ? e : this.createError(name, e);
    }
    try {
      await this.bounded('start container', container.start(), this.actionTimeoutMs);
    } catch (e) {
      await container.remove({ force: true }).catch(() => undefined);
      throw e instanceof SwitchyardError ? e : this.createError(name, e);
    }
    const live = await this.inspect(container.id);
    if (!live) throw new SwitchyardError('CreateFailed', `container ${name} vanished right after it started`, { retry: 'transient' });
    return live;
  }

  /**
   * Creates the container; when its image is not on the host, builds it (a `build:` context) or pulls it
   * (with the registry's credentials), once, and tries again.
   */
  private async createPulling(spec: TargetSpec, options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    try {
      return await this.bounded('create container', this.docker.createContainer(options), this.actionTimeoutMs);
    } catch (e) {
      if (!(statusOf(e) === 404 && /image/i.test(errorMessage(e)))) throw e;
    }
    if (spec.build) {
      const tag = spec.image;
      if (!this.building.has(tag)) this.building.set(tag, this.build(spec).finally(() => this.building.delete(tag)));
      await this.building.get(tag);
      return this.bounded('create container', this.docker.createContainer(options), this.actionTimeoutMs);
    }
    const registry = registryOf(spec.image);
    const auth = this.credentials[registry];
    try {
      await this.pull(spec.image, auth ? { authconfig: { ...auth, serveraddress: registry } } : {});
    } catch (e) {
      throw new SwitchyardError('ImagePullFailed', `cannot pull image "${spec.image}" for ${spec.app}/${spec.color}: ${errorMessage(e)}`, {
        hint: `check the name and tag in colors.${spec.color}.image, that ${registry} is reachable, and its credentials (registries in the agent config)`,
        cause: e,
      });
    }
    return this.bounded('create container', this.docker.createContainer(options), this.actionTimeoutMs);
  }

  /** Pulls an image; a pull that makes no progress for pullIdleTimeoutMs (a stalled registry) is cut. */
  private async pull(image: string, opts: object): Promise<void> {
    const stalled = new Error(`no progress for ${this.pullIdleTimeoutMs} ms`);
    const idle = idleAbort(this.pullIdleTimeoutMs, stalled);
    try {
      const stream = await this.docker.pull(image, { ...opts, abortSignal: idle.signal });
      await new Promise<void>((resolve, reject) => this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), idle.touch));
    } catch (e) {
      throw idle.signal.aborted ? stalled : e;
    } finally {
      idle.stop();
    }
    // A cut stream may end as if it were whole: it is not.
    if (idle.signal.aborted) throw stalled;
  }

  /** Builds spec.image from its context at the spec's commit. The engine's output ends up in the error. */
  private async build(spec: TargetSpec): Promise<void> {
    const b = spec.build!;
    const failed = (detail: string, e?: unknown) =>
      new SwitchyardError('BuildFailed', `cannot build ${spec.image} from ${b.context} (commit ${spec.commit.slice(0, 12)}) for ${spec.app}/${spec.color}: ${detail}`, {
        ...(b.location ? { location: b.location } : {}),
        hint: 'fix the Dockerfile or the context and commit again; `docker build` on that folder shows the same error',
        ...(e ? { cause: e } : {}),
      });
    if (!this.readContext) throw failed('this runtime has no access to the repository');
    const files = await this.readContext(spec.commit, b.context);
    let output: { stream?: string; error?: string }[];
    try {
      const stream = await this.docker.buildImage(tarball(files) as unknown as NodeJS.ReadableStream, {
        t: spec.image,
        dockerfile: b.dockerfile,
        buildargs: b.args,
        labels: { [LABEL.instance]: this.instance, [LABEL.app]: spec.app, [LABEL.commit]: spec.commit },
        rm: true,
        forcerm: true,
      });
      output = await new Promise((resolve, reject) => this.docker.modem.followProgress(stream, (err: Error | null, out: { stream?: string; error?: string }[]) => (err ? reject(err) : resolve(out))));
    } catch (e) {
      if (statusOf(e) === undefined) throw this.unavailable(`build ${spec.image}`, e);
      throw failed(errorMessage(e), e);
    }
    const error = output.find((o) => o.error)?.error;
    if (error) {
      const tail = output.flatMap((o) => (o.stream ?? '').split('\n')).map((l) => l.trim()).filter(Boolean).slice(-5);
      throw failed(`${error.trim()}${tail.length ? ` (last output: ${tail.join(' | ')})` : ''}`);
    }
  }

  async inspect(id: string): Promise<LiveTarget | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.bounded('inspect container', this.docker.getContainer(id).inspect(), this.readTimeoutMs);
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw this.unavailable('inspect container', e);
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
      await this.bounded('stop container', container.stop({ t: STOP_GRACE_SECONDS }), this.actionTimeoutMs);
    } catch (e) {
      // 304: already stopped; 404: already gone. Both are the state we want.
      if (statusOf(e) === 404) return;
      if (statusOf(e) !== 304) throw this.unavailable('stop container', e);
    }
    try {
      await this.bounded('remove container', container.remove({ force: true }), this.actionTimeoutMs);
    } catch (e) {
      const status = statusOf(e);
      // 409: removal already in progress.
      if (status !== 404 && status !== 409) throw this.unavailable('remove container', e);
    }
  }

  /**
   * A target's output (stdout and stderr), each line prefixed with `prefix`, written to `out` until
   * it ends (or, with follow, until the container stops or `signal` aborts).
   */
  async logs(id: string, out: NodeJS.WritableStream, opts: { follow: boolean; tail: number; prefix: string; signal?: AbortSignal }): Promise<void> {
    const container = this.docker.getContainer(id);
    const lines = new LinePrefixer(opts.prefix, out);
    if (!opts.follow) {
      const buf = (await this.call('read logs', () => container.logs({ stdout: true, stderr: true, follow: false, tail: opts.tail }))) as unknown as Buffer;
      lines.write(demux(buf));
      lines.end();
      return;
    }
    const stream = await this.call('follow logs', () => container.logs({ stdout: true, stderr: true, follow: true, tail: opts.tail }));
    opts.signal?.addEventListener('abort', () => (stream as unknown as { destroy(): void }).destroy(), { once: true });
    await new Promise<void>((resolve) => {
      const sink = { write: (chunk: Buffer) => (lines.write(chunk), true) } as unknown as NodeJS.WritableStream;
      this.docker.modem.demuxStream(stream, sink, sink);
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', resolve);
    });
    lines.end();
  }

  async watch(onEvent: (e: TargetEvent) => void, signal: AbortSignal): Promise<void> {
    let wait = 500;
    while (!signal.aborted) {
      try {
        const stream = (await this.docker.getEvents({
          filters: { type: ['container'], event: WATCH_FILTER, label: [`${LABEL.instance}=${this.instance}`] },
        })) as unknown as NodeJS.ReadableStream & { destroy(): void };
        wait = 500;
        const stop = () => stream.destroy();
        signal.addEventListener('abort', stop, { once: true });
        let buffered = '';
        await new Promise<void>((resolve) => {
          stream.on('data', (chunk: Buffer) => {
            buffered += chunk.toString('utf8');
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              if (!line) continue;
              try {
                const e = JSON.parse(line) as { id?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } };
                const app = e.Actor?.Attributes?.[LABEL.app];
                const action = e.Action === 'health_status: unhealthy' ? 'unhealthy' : e.Action;
                if (e.id && app && action && WATCHED.has(action)) onEvent({ id: e.id, app, action: action as TargetEvent['action'] });
              } catch {
                // Not an event line: skipped.
              }
            }
          });
          stream.on('end', resolve);
          stream.on('close', resolve);
          stream.on('error', () => resolve());
        });
        signal.removeEventListener('abort', stop);
      } catch {
        // The engine is away (restarting?): try again, backing off to 10 s.
      }
      if (signal.aborted) break;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 10_000);
    }
  }

  /** `answer`, or DockerUnavailable when the engine has not answered within `ms`. */
  private async bounded<T>(what: string, answer: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SwitchyardError('DockerUnavailable', `cannot ${what}: the Docker engine did not answer within ${ms} ms`, {
        hint: 'dockerd may be hung: check `docker info` and the dockerd log, restart it if it does not answer; the agent retries',
      })), ms);
    });
    try {
      return await Promise.race([answer, silent]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A short read of the engine, bounded by readTimeoutMs; any failure is DockerUnavailable. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.bounded(what, fn(), this.readTimeoutMs);
    } catch (e) {
      throw this.unavailable(what, e);
    }
  }

  private unavailable(what: string, e: unknown): SwitchyardError {
    if (e instanceof SwitchyardError) return e; // already says what (a timeout, say)
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') {
      return new SwitchyardError('DockerUnavailable', `cannot ${what}: the Docker engine does not answer (${code})`, {
        hint: 'start dockerd (e.g. `systemctl start docker` or `dockerd &`) or set DOCKER_HOST; the agent retries',
        cause: e,
      });
    }
    return new SwitchyardError('DockerUnavailable', `cannot ${what}: ${errorMessage(e)}`, { cause: e });
  }

  private createError(name: string, e: unknown): SwitchyardError {
    const message = errorMessage(e);
    const status = statusOf(e);
    if (/port is already allocated|address already in use/i.test(message)) {
      return new SwitchyardError('PortInUse', `container ${name}: host port collision: ${message}`, { cause: e });
    }
    if (status === undefined) return this.unavailable(`create container ${name}`, e);
    // A 5xx is the engine's own trouble (seen while dockerd shuts down: "failed to update store"), not the
    // spec's: retried. What the spec causes (a bad mount, a missing entrypoint) comes back as a 4xx.
    if (status >= 500) return new SwitchyardError('DockerUnavailable', `container ${name}: the Docker engine failed: ${message}`, { hint: 'the agent retries; if it persists, see the dockerd log', cause: e });
    return new SwitchyardError('CreateFailed', `container ${name}: ${message}`, { cause: e });
  }
}

/** Docker's health verdict as `docker ps` words it: "Up 3 minutes (unhealthy)", "Up 2 seconds (health: starting)". */
function healthFromStatus(status: string): LiveTarget['health'] {
  if (status.includes('(unhealthy)')) return 'unhealthy';
  if (status.includes('(healthy)')) return 'healthy';
  if (status.includes('(health: starting)')) return 'starting';
  return undefined;
}

function statusOf(e: unknown): number | undefined {
  return (e as { statusCode?: number }).statusCode;
}

/** Docker's multiplexed log frames (8-byte header: stream, 0, 0, 0, size) to their payload. */
function demux(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts);
}

/** Writes whole lines, each with a prefix; a last line without a newline is written at the end. */
class LinePrefixer {
  private rest = '';
  constructor(private readonly prefix: string, private readonly out: NodeJS.WritableStream) {}
  write(chunk: Buffer): void {
    const text = this.rest + chunk.toString('utf8');
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.out.write(`${this.prefix}${line}\n`);
  }
  end(): void {
    if (this.rest) this.out.write(`${this.prefix}${this.rest}\n`);
    this.rest = '';
  }
}
