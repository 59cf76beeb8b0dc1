// The SignatureVerifier of the agent: the keys of `verify.allowedSigners` (SSH) and `verify.gpgKeys`
// (OpenPGP), read again at every check, so that a key added or removed counts from the next commit on
// without a restart, and an unreadable key file is said in the verdict rather than stopping the agent.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Key } from 'openpgp';
import type { SignatureVerifier, SignedObject, Verdict } from '../../core/signature.js';
import { parseAllowedSigners, signerAllows } from './allowed-signers.js';
import { checkOpenpgpSignature, readArmoredKeys } from './openpgp-signature.js';
import { checkSshSignature } from './sshsig.js';

export interface KeyFiles {
  /** git's allowed-signers file. */
  allowedSigners?: string;
  /** A folder of ASCII-armored OpenPGP public keys. */
  gpgKeys?: string;
}

/** git signs in this SSH namespace (ssh-keygen -Y sign -n git). */
const GIT_NAMESPACE = 'git';

export class FileSignatureVerifier implements SignatureVerifier {
  constructor(private readonly files: KeyFiles) {}

  async verify(object: SignedObject, now: number): Promise<Verdict> {
    const { signature } = object;
    if (!signature) return { ok: false, why: 'it carries no signature' };
    if (signature.startsWith('-----BEGIN SSH SIGNATURE-----')) return this.ssh(object, signature);
    if (signature.startsWith('-----BEGIN PGP SIGNATURE-----')) return this.openpgp(object, signature, now);
    return { ok: false, why: `its signature is of a kind not checked here (${signature.split('\n')[0]}); sign with SSH or OpenPGP` };
  }

  private async ssh(object: SignedObject, armored: string): Promise<Verdict> {
    let sig;
    try {
      sig = checkSshSignature(armored, object.payload);
    } catch (e) {
      return { ok: false, why: `its SSH signature cannot be read: ${(e as Error).message}` };
    }
    const { fingerprint } = sig;
    if (!this.files.allowedSigners) return { ok: false, why: `it is signed by SSH key ${fingerprint}, and verify.allowedSigners is not set`, fingerprint };
    let text: string;
    try {
      text = await readFile(this.files.allowedSigners, 'utf8');
    } catch (e) {
      return { ok: false, why: `verify.allowedSigners ${this.files.allowedSigners} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fingerprint };
    }
    const { signers, problems } = parseAllowedSigners(text, this.files.allowedSigners);
    const listed = signers.filter((s) => s.keyBlob.equals(sig.keyBlob));
    const unreadable = problems.length ? ` (unreadable lines: ${problems.join('; ')})` : '';
    if (!listed.length) return { ok: false, why: `it is signed by SSH key ${fingerprint}, which is not in ${this.files.allowedSigners}${unreadable}`, fingerprint };
    if (sig.namespace !== GIT_NAMESPACE) return { ok: false, why: `its SSH signature by ${fingerprint} is for namespace "${sig.namespace}", not "git"`, fingerprint };
    if (!sig.valid) return { ok: false, why: `its SSH signature by ${fingerprint} does not match its content (tampered, or made for other bytes)`, fingerprint };
    const when = (object.timestamp ?? 0) * 1000;
    const reasons = listed.map((s) => signerAllows(s, GIT_NAMESPACE, when));
    const allowed = listed.find((_, i) => reasons[i] === undefined);
    if (!allowed) return { ok: false, why: `it is signed by SSH key ${fingerprint}, but ${reasons[0]}`, fingerprint };
    return { ok: true, signer: { format: 'ssh', fingerprint, identity: allowed.principals } };
  }

  private async openpgp(object: SignedObject, armored: string, now: number): Promise<Verdict> {
    if (!this.files.gpgKeys) return { ok: false, why: 'it is signed with OpenPGP, and verify.gpgKeys is not set' };
    const keys: Key[] = [];
    const problems: string[] = [];
    let names: string[];
    try {
      names = (await readdir(this.files.gpgKeys, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name).sort();
    } catch (e) {
      return { ok: false, why: `verify.gpgKeys ${this.files.gpgKeys} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
    }
    for (const name of names) {
      const path = join(this.files.gpgKeys, name);
      try {
        keys.push(...(await readArmoredKeys(await readFile(path, 'utf8'))));
      } catch (e) {
        problems.push(`${path}: ${(e as Error).message}`);
      }
    }
    const verdict = await checkOpenpgpSignature(armored, object.payload, keys, now);
    return verdict.ok || !problems.length ? verdict : { ...verdict, why: `${verdict.why} (unreadable key files: ${problems.join('; ')})` };
  }
}
