// The spec hash (part of every container's name, shown by the status and the journal) covers secret
// values read from env files only through an HMAC with the host's key: a 6-digit secret can no longer be
// recovered by hashing guesses.
import { describe, expect, it } from 'vitest';
import { resolveEnvFiles } from '../../src/desired/env-files.js';
import { loadDesired } from '../../src/desired/load.js';
import { specHash } from '../../src/plan/target-spec.js';
import { appYaml } from '../support/app-yaml.js';

const app = appYaml({ listen: 9000 }).replace('      GREETING: hello', '      GREETING: hello\n      PIN: { file: /etc/switchyard/secrets/pin }');
const loaded = loadDesired('c1', [{ path: 'apps/web.yaml', content: new TextEncoder().encode(app) }]);

async function hashWith(pin: string, hashKey?: Uint8Array): Promise<string> {
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const { state } = await resolveEnvFiles(loaded.state, { read: async () => `${pin}\n`, ...(hashKey ? { hashKey } : {}) });
  return specHash(state.apps[0]!, 'blue');
}

describe('spec hash and secrets', () => {
  it('rolls when a secret changes, but the hash depends on the host key, not on the secret alone', async () => {
    const key = new Uint8Array(32).fill(7);
    const other = new Uint8Array(32).fill(9);
    expect(await hashWith('123456', key)).not.toBe(await hashWith('123457', key));
    expect(await hashWith('123456', key)).toBe(await hashWith('123456', key));
    expect(await hashWith('123456', key)).not.toBe(await hashWith('123456', other));
  });

  it('cannot be matched by hashing guesses without the key (the guesses an attacker could try)', async () => {
    const key = new Uint8Array(32).fill(7);
    const target = await hashWith('004217', key);
    const guesses = new Set<string>();
    for (let i = 0; i < 5000; i++) guesses.add(await hashWith(String(i).padStart(6, '0')));
    expect(guesses.size).toBe(5000);
    expect(guesses.has(target)).toBe(false);
  });
});
