// Env values read from files on the agent's host: only regular files under the policy's folders, after
// resolving links (no escape through a symbolic link), never the host's system folders, and opened
// without blocking (a FIFO planted in the folder must not hang the agent).
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isUnder, SYSTEM_PATHS, touches } from '../../core/host-path.js';
import type { SecretReader } from '../../core/stores.js';

export class FileSecretReader implements SecretReader {
  constructor(
    private readonly allowed: readonly string[],
    readonly hashKey?: Uint8Array,
  ) {}

  async read(path: string): Promise<string> {
    const real = await realpath(path);
    const dirs = await Promise.all(this.allowed.map((dir) => realpath(dir).catch(() => dir)));
    if (!dirs.some((dir) => isUnder(real, dir)) || touches(real, SYSTEM_PATHS)) throw new Error(`${path} resolves to ${real}, outside the allowed folders`);
    const file = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!(await file.stat()).isFile()) throw new Error(`${path} is not a regular file`);
      return await file.readFile('utf8');
    } finally {
      await file.close();
    }
  }
}
