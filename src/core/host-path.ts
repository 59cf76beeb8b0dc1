// Paths on the agent's host, compared as text after normalising (the policy and the secret reader agree).
import { posix } from 'node:path';

/** True when `path` is `dir` or inside it. */
export function isUnder(path: string, dir: string): boolean {
  const d = posix.normalize(dir).replace(/\/+$/, '') || '/';
  const p = posix.normalize(path);
  return d === '/' || p === d || p.startsWith(`${d}/`);
}
