// Real signing keys for tests: ed25519 SSH keys made with ssh-keygen, OpenPGP keys batch-made with gpg
// in a keyring (GNUPGHOME) of the test's own, and the `git -c …` settings that make the git CLI sign with
// each. Everything lives under the folder the test passes and removes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SigningKey {
  /** `git -c` settings (and env) that make `git commit -S` / `git tag -s` sign with this key. */
  gitConfig: string[];
  env: Record<string, string>;
  /** SSH: `SHA256:…`; OpenPGP: the fingerprint, upper-case hex. */
  fingerprint: string;
}

export interface SshKey extends SigningKey {
  /** The private key file (its .pub beside it). */
  path: string;
  /** The line for an allowed-signers file: `principal keytype key`. */
  allowedSignersLine(principal: string, options?: string): string;
}

/** `type`: ssh-keygen's -t and -b, e.g. ['rsa', '3072'] or ['ecdsa', '384'] (default ed25519). */
export function makeSshKey(dir: string, name: string, type: [string, string?] = ['ed25519']): SshKey {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type[0], ...(type[1] ? ['-b', type[1]] : []), '-N', '', '-C', name, '-f', path]);
  const pub = readFileSync(`${path}.pub`, 'utf8').trim().split(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return {
    path,
    gitConfig: ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${path}`],
    env: {},
    fingerprint,
    allowedSignersLine: (principal, options) => [principal, ...(options ? [options] : []), pub[0], pub[1]].join(' '),
  };
}

export interface GpgKey extends SigningKey {
  home: string;
  /** The armored public key, as exported now (with its revocation, once revoked). */
  exportPublic(): string;
  /** Revokes the key with the revocation certificate gpg made for it. */
  revoke(): void;
}

/**
 * An OpenPGP key in a keyring of its own. `fakedTime` (gpg's --faked-system-time, e.g. 20200101T000000)
 * with `expire` (e.g. "1d") makes a key that has long expired: the key and every signature it makes are
 * dated then (git signs through a wrapper that passes the same time).
 */
export function makeGpgKey(dir: string, name: string, opts: { expire?: string; fakedTime?: string } = {}): GpgKey {
  const home = join(dir, `gnupg-${name}`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const faked = opts.fakedTime ? ['--faked-system-time', opts.fakedTime] : [];
  const gpg = (...args: string[]) => execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...faked, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  gpg('--quick-gen-key', `${name} <${name}@example.com>`, 'ed25519', 'sign', opts.expire ?? 'never');
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg('--with-colons', '--list-keys', `${name}@example.com`))![1]!;
  const program = join(dir, `gpg-${name}.sh`);
  writeFileSync(program, `#!/bin/sh\nexec gpg --homedir '${home}' --batch --pinentry-mode loopback --passphrase '' ${faked.join(' ')} "$@"\n`, { mode: 0o755 });
  return {
    home,
    fingerprint,
    gitConfig: ['-c', 'gpg.format=openpgp', '-c', `gpg.program=${program}`, '-c', `user.signingkey=${fingerprint}`],
    env: { GNUPGHOME: home },
    exportPublic: () => gpg('--armor', '--export', fingerprint),
    revoke: () => {
      const revs = join(home, 'openpgp-revocs.d');
      const cert = readFileSync(join(revs, readdirSync(revs).find((f) => f.startsWith(fingerprint))!), 'utf8');
      // gpg writes the certificate with its armor line escaped by ':' so that it is not imported by mistake.
      const file = join(dir, `${name}.rev`);
      writeFileSync(file, cert.replace(/^:-----BEGIN/m, '-----BEGIN'));
      gpg('--import', file);
    },
  };
}
