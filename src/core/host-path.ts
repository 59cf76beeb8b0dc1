// Paths on the agent's host. The policy judges a host path by what it really is: its text normalised
// (slashes, `..`, a trailing slash), then, on the host, with its symbolic links resolved, so that neither
// `/run/` nor a link planted inside an allowed folder reaches the Docker socket.
import { posix } from 'node:path';

/** Normalised text: `..` and `.` resolved, repeated and trailing slashes dropped. */
export function normalizePath(path: string): string {
  return posix.normalize(path).replace(/(.)\/+$/, '$1');
}

/** True when `path` is `dir` or inside it. */
export function isUnder(path: string, dir: string): boolean {
  const d = normalizePath(dir);
  const p = normalizePath(path);
  return d === '/' || p === d || p.startsWith(`${d}/`);
}

/** The sockets that are root on the host (Docker's and containerd's). */
export const ENGINE_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock', '/var/run/containerd/containerd.sock', '/run/containerd/containerd.sock'];
/** The host's own system folders: never mounted into a container, whatever the policy says. */
export const SYSTEM_PATHS = ['/var/lib/docker', '/var/lib/containerd', '/proc', '/sys'];

/** The first of `paths` that `path` is, lies in, or holds (a parent folder holds everything below it). */
export function touches(path: string, paths: readonly string[]): string | undefined {
  return paths.find((p) => isUnder(path, p) || isUnder(p, path));
}
