// The connection to the Docker engine, as the docker CLI finds it: DOCKER_HOST (unix://PATH, or
// tcp://HOST:PORT with TLS when DOCKER_TLS_VERIFY is set, its certificates from DOCKER_CERT_PATH), else
// the default socket. Anything else (ssh://, npipe://) is refused with what to do, never ignored. The API
// version is pinned, since Debian's engine speaks 1.41 and dockerode does not negotiate.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { SwitchyardError } from '../../core/errors.js';

export const DOCKER_API_VERSION = 'v1.41';
const DEFAULT_SOCKET = '/var/run/docker.sock';

export function connectDocker(env: NodeJS.ProcessEnv = process.env): Docker {
  return new Docker({ ...engineAddress(env), version: DOCKER_API_VERSION });
}

export type EngineAddress =
  | { socketPath: string }
  | { protocol: 'http' | 'https'; host: string; port: number; ca?: Buffer; cert?: Buffer; key?: Buffer };

/** Where the engine is, from the environment (`read` reads the TLS files; a test passes its own). */
export function engineAddress(env: NodeJS.ProcessEnv, read: (path: string) => Buffer = readFileSync): EngineAddress {
  const given = env.DOCKER_HOST?.trim();
  if (!given) return { socketPath: DEFAULT_SOCKET };
  if (given.startsWith('unix://')) return { socketPath: given.slice('unix://'.length) };
  const tcp = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(given);
  if (!tcp) {
    throw new SwitchyardError('UsageError', `DOCKER_HOST=${given} is not an engine address Switchyard can use`, {
      hint: 'use unix:///var/run/docker.sock or tcp://HOST:PORT (with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for TLS); ssh:// is not supported',
    });
  }
  const host = tcp[1]!.replace(/^\[|\]$/g, '');
  const port = Number(tcp[2]);
  const tls = Boolean(env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0');
  if (!tls) return { protocol: 'http', host, port };
  const dir = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const file = (name: string) => {
    try {
      return read(join(dir, name));
    } catch (e) {
      throw new SwitchyardError('UsageError', `DOCKER_TLS_VERIFY is set but ${join(dir, name)} cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`, {
        hint: 'put ca.pem, cert.pem and key.pem in DOCKER_CERT_PATH (default ~/.docker)',
      });
    }
  };
  return { protocol: 'https', host, port, ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem') };
}
