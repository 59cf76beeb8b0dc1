// Named volumes belong to the app that asks for them: the volume `data` of app `web` is the engine's
// volume `INSTANCE-web-data`, created with this agent's labels. A volume of that name that exists without
// those labels (made by hand, perhaps as a bind of /run) is refused, so a repository cannot reach a host
// folder through a volume. Volumes the operator lists in the policy's externalVolumes are mounted as
// they are. Volumes outlive their app: a prune removes containers, never data.
import type Docker from 'dockerode';
import { SwitchyardError } from '../../core/errors.js';
import { bounded, statusOf, unavailable } from './engine-errors.js';
import { LABEL } from './labels.js';

function scopedVolume(instance: string, app: string, name: string): string {
  return `${instance}-${app}-${name}`;
}

export class Volumes {
  constructor(
    private readonly docker: Docker,
    private readonly instance: string,
    private readonly external: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  /** The engine's name of `app`'s volume `name`, and whether it is the operator's (listed in externalVolumes). */
  nameOf(app: string, name: string): { name: string; external: boolean } {
    return this.external.includes(name) ? { name, external: true } : { name: scopedVolume(this.instance, app, name), external: false };
  }

  /** The engine's name of `app`'s volume `name`, created when missing. */
  async source(app: string, name: string): Promise<string> {
    const { name: scoped, external } = this.nameOf(app, name);
    if (external) return scoped;
    let labels: Record<string, string>;
    try {
      labels = (await bounded('inspect volume', this.docker.getVolume(scoped).inspect(), this.timeoutMs)).Labels ?? {};
    } catch (e) {
      if (statusOf(e) !== 404) throw unavailable(`inspect volume ${scoped}`, e);
      await bounded('create volume', this.docker.createVolume({ Name: scoped, Labels: { [LABEL.instance]: this.instance, [LABEL.app]: app } }), this.timeoutMs).catch((err: unknown) => {
        throw unavailable(`create volume ${scoped}`, err);
      });
      return scoped;
    }
    if (labels[LABEL.instance] !== this.instance || labels[LABEL.app] !== app) {
      throw new SwitchyardError('PolicyDenied', `volume "${name}" of ${app}: the engine already has a volume ${scoped} that this agent did not create for this app`, {
        hint: `remove that volume, or list "${name}" in the agent's policy.externalVolumes to mount an existing volume as it is`,
      });
    }
    return scoped;
  }
}
