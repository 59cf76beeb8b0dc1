// The connection to the Docker engine: the socket from DOCKER_HOST (unix) or the default, and the API
// version pinned, since Debian's engine speaks 1.41 and dockerode does not negotiate.
import Docker from 'dockerode';

export const DOCKER_API_VERSION = 'v1.41';

export function connectDocker(socketPath = dockerSocketFromEnv()): Docker {
  return new Docker({ socketPath, version: DOCKER_API_VERSION });
}

function dockerSocketFromEnv(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}
