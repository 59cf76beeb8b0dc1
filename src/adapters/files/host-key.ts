// The host's own key (32 random bytes, owner-only in the state dir): secret values reach the spec hash
// only through an HMAC with it (core/stores.ts SecretReader.hashKey). Made at the agent's first start.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The key at `path`; with `create`, a new one is made when there is none. */
export async function hostKey(path: string, opts: { create: boolean }): Promise<Uint8Array | undefined> {
  try {
    const key = await readFile(path);
    if (key.length >= 32) return key;
  } catch {
    // None yet.
  }
  if (!opts.create) return undefined;
  const key = randomBytes(32);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, key, { mode: 0o600 });
  return key;
}
