// Images for targets: pulled with the registry's credentials when missing (a pull that makes no progress
// for pullIdleTimeoutMs, a stalled registry, is cut), or built on the agent's host from a `build:` context
// of the repository at the target's commit. Replicas that need the same image wait for one build.
import type Docker from 'dockerode';
import { errorMessage, SwitchyardError } from '../../core/errors.js';
import { idleAbort } from '../../core/idle-abort.js';
import type { TargetSpec } from '../../core/target.js';
import { statusOf, unavailable } from './engine-errors.js';
import { LABEL } from './labels.js';
import { tarball, type TarFile } from './tar.js';

export type RegistryCredentials = Record<string, { username: string; password: string }>;

/** The files of a `build:` context at a commit (the source's folder()). */
export type ContextReader = (commit: string, dir: string) => Promise<TarFile[]>;

/** The registry host of an image reference: its first part when that looks like a host, else Docker Hub. */
export function registryOf(image: string): string {
  const first = image.split('/')[0]!;
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

export class Images {
  /** Builds in progress by image tag. */
  private readonly building = new Map<string, Promise<void>>();

  constructor(
    private readonly docker: Docker,
    private readonly instance: string,
    private readonly opts: { credentials: RegistryCredentials; readContext: ContextReader | undefined; pullIdleTimeoutMs: number; buildNetwork: 'default' | 'none' },
  ) {}

  /** Makes spec.image exist on the host: built from its context, or pulled. */
  async provide(spec: TargetSpec): Promise<void> {
    if (spec.build) {
      const tag = spec.image;
      if (!this.building.has(tag)) this.building.set(tag, this.build(spec).finally(() => this.building.delete(tag)));
      return this.building.get(tag);
    }
    const registry = registryOf(spec.image);
    const auth = this.opts.credentials[registry];
    try {
      await this.pull(spec.image, auth ? { authconfig: { ...auth, serveraddress: registry } } : {});
    } catch (e) {
      throw new SwitchyardError('ImagePullFailed', `cannot pull image "${spec.image}" for ${spec.app}/${spec.color}: ${errorMessage(e)}`, {
        hint: `check the name and tag in colors.${spec.color}.image, that ${registry} is reachable, and its credentials (registries in the agent config)`,
        cause: e,
      });
    }
  }

  /**
   * The reference that names exactly this image on every node of a swarm: `name@digest` when it came
   * from a registry (a node that lacks it pulls those very bytes, as `docker service create` pins), else
   * its ID (built or loaded here: a node runs it only if it has it, and never tries a registry for it).
   * A missing image is provided here first.
   */
  async pinned(spec: TargetSpec): Promise<string> {
    const inspect = async () => {
      try {
        return await this.docker.getImage(spec.image).inspect();
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw unavailable(`inspect image ${spec.image}`, e);
      }
    };
    let info = await inspect();
    if (!info) {
      await this.provide(spec);
      info = await inspect();
      if (!info) throw new SwitchyardError('ImagePullFailed', `image "${spec.image}" for ${spec.app}/${spec.color} is still missing after it was provided`, { retry: 'transient' });
    }
    const repository = spec.image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
    return info.RepoDigests?.find((d) => d.startsWith(`${repository}@`)) ?? info.Id;
  }

  /** What to pass a service create so that nodes can pull from a registry that wants a password. */
  authFor(image: string): Docker.AuthConfig | undefined {
    const registry = registryOf(image);
    const auth = this.opts.credentials[registry];
    return auth ? { ...auth, serveraddress: registry } : undefined;
  }

  private async pull(image: string, opts: object): Promise<void> {
    const ms = this.opts.pullIdleTimeoutMs;
    const stalled = new Error(`no progress for ${ms} ms`);
    const idle = idleAbort(ms, stalled);
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
    if (!this.opts.readContext) throw failed('this runtime has no access to the repository');
    const files = await this.opts.readContext(spec.commit, b.context);
    let output: { stream?: string; error?: string }[];
    try {
      const stream = await this.docker.buildImage(tarball(files) as unknown as NodeJS.ReadableStream, {
        t: spec.image,
        dockerfile: b.dockerfile,
        buildargs: b.args,
        labels: { [LABEL.instance]: this.instance, [LABEL.app]: spec.app, [LABEL.commit]: spec.commit },
        rm: true,
        forcerm: true,
        // RUN steps without any network when the host's policy says so (buildNetwork: none).
        ...(this.opts.buildNetwork === 'none' ? { networkmode: 'none' } : {}),
      });
      output = await new Promise((resolve, reject) => this.docker.modem.followProgress(stream, (err: Error | null, out: { stream?: string; error?: string }[]) => (err ? reject(err) : resolve(out))));
    } catch (e) {
      if (statusOf(e) === undefined) throw unavailable(`build ${spec.image}`, e);
      throw failed(errorMessage(e), e);
    }
    const error = output.find((o) => o.error)?.error;
    if (error) {
      const tail = output.flatMap((o) => (o.stream ?? '').split('\n')).map((l) => l.trim()).filter(Boolean).slice(-5);
      throw failed(`${error.trim()}${tail.length ? ` (last output: ${tail.join(' | ')})` : ''}`);
    }
  }
}
