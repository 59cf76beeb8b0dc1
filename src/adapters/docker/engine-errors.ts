// The engine's failures in the catalogue's words. A hung engine (a stuck storage driver, a deadlock) must
// not hang the agent: a call with no answer in time fails as DockerUnavailable (transient: the pass fails,
// backs off, and the stale alarm goes up if it lasts). What the spec causes (a bad mount, a missing
// entrypoint) comes back from the engine as a 4xx: CreateFailed, held against the commit.
import { errorMessage, SwitchyardError } from '../../core/errors.js';

/** `answer`, or DockerUnavailable when the engine has not answered within `ms`. */
export async function bounded<T>(what: string, answer: Promise<T>, ms: number): Promise<T> {
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

/** The HTTP status of a dockerode error, or undefined when the engine did not answer at all. */
export function statusOf(e: unknown): number | undefined {
  return (e as { statusCode?: number }).statusCode;
}

export function unavailable(what: string, e: unknown): SwitchyardError {
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

/** Why a container could not be created or started. */
export function createError(name: string, e: unknown): SwitchyardError {
  if (e instanceof SwitchyardError) return e;
  const message = errorMessage(e);
  const status = statusOf(e);
  if (/port is already allocated|address already in use/i.test(message)) {
    return new SwitchyardError('PortInUse', `container ${name}: host port collision: ${message}`, { cause: e });
  }
  if (status === undefined) return unavailable(`create container ${name}`, e);
  // A 5xx is the engine's own trouble (seen while dockerd shuts down: "failed to update store"), not the
  // spec's: retried.
  if (status >= 500) return new SwitchyardError('DockerUnavailable', `container ${name}: the Docker engine failed: ${message}`, { hint: 'the agent retries; if it persists, see the dockerd log', cause: e });
  return new SwitchyardError('CreateFailed', `container ${name}: ${message}`, { cause: e });
}

/** A short read of the engine, bounded by `ms`; any failure is DockerUnavailable. */
export async function engineRead<T>(what: string, fn: () => Promise<T>, ms: number): Promise<T> {
  try {
    return await bounded(what, fn(), ms);
  } catch (e) {
    throw unavailable(what, e);
  }
}
