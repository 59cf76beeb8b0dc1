// Env values read from files on the agent's host: only under the policy's folders, after resolving links
// (no escape through a symbolic link).
import { readFile, realpath } from 'node:fs/promises';
import { isUnder } from '../../core/host-path.js';
import type { SecretReader } from '../../core/stores.js';

export class FileSecretReader implements SecretReader {
  constructor(private readonly allowed: readonly string[]) {}

  async read(path: string): Promise<string> {
    const real = await realpath(path);
    if (!this.allowed.some((dir) => isUnder(real, dir))) throw new Error(`${path} resolves to ${real}, outside the allowed folders`);
    return readFile(real, 'utf8');
  }
}
