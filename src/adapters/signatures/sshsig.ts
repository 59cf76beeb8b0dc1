// SSH signatures as git makes them (`gpg.format ssh`): the SSHSIG format of OpenSSH's PROTOCOL.sshsig,
// checked with node's crypto. The signature names its public key; whether that key may sign is the
// allowed-signers file's business (allowed-signers.ts).
import { createHash, verify } from 'node:crypto';
import { fingerprintOf, readPublicKey, WireReader, wireString } from './ssh-wire.js';

const ARMOR = /^-----BEGIN SSH SIGNATURE-----\n([\s\S]*?)\n?-----END SSH SIGNATURE-----\s*$/;
const HASHES: Record<string, string> = { sha256: 'sha256', sha512: 'sha512' };

export interface SshSignature {
  /** The signer's public key, in wire form (what allowed_signers lists, base64). */
  keyBlob: Buffer;
  fingerprint: string;
  namespace: string;
  /** Whether the signature is good for `payload` by that key (said nothing of whether the key may sign). */
  valid: boolean;
}

/** Throws when the text is not an SSHSIG signature git could have made. */
export function checkSshSignature(armored: string, payload: Uint8Array): SshSignature {
  const match = ARMOR.exec(armored.replace(/\r\n/g, '\n').trim());
  if (!match) throw new Error('not an SSH signature (no BEGIN/END SSH SIGNATURE armor)');
  const blob = Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
  const r = new WireReader(blob);
  if (r.bytes(6).toString() !== 'SSHSIG') throw new Error('not an SSHSIG blob');
  const version = r.uint32();
  if (version !== 1) throw new Error(`SSHSIG version ${version} is not supported`);
  const keyBlob = Buffer.from(r.string());
  const namespace = r.string().toString();
  const reserved = r.string();
  const hashName = r.string().toString();
  const sigBlob = r.string();
  const hash = HASHES[hashName];
  if (!hash) throw new Error(`SSHSIG hash ${hashName} is not supported`);
  const fingerprint = fingerprintOf(keyBlob);
  const key = readPublicKey(keyBlob);
  const signed = Buffer.concat([
    Buffer.from('SSHSIG'),
    wireString(namespace),
    wireString(reserved),
    wireString(hashName),
    wireString(createHash(hash).update(payload).digest()),
  ]);
  const s = new WireReader(Buffer.from(sigBlob));
  const format = s.string().toString();
  const raw = s.string();
  let valid: boolean;
  if (key.type === 'ssh-ed25519') {
    valid = format === 'ssh-ed25519' && verify(null, signed, key.key, raw);
  } else if (key.type === 'ssh-rsa') {
    // SSHSIG forbids SHA-1 ("ssh-rsa") signatures.
    const alg = format === 'rsa-sha2-256' ? 'sha256' : format === 'rsa-sha2-512' ? 'sha512' : undefined;
    valid = alg !== undefined && verify(alg, signed, key.key, raw);
  } else {
    const rs = new WireReader(Buffer.from(raw));
    const size = key.curveSize!;
    const pad = (b: Buffer) => (b.length > size ? b.subarray(b.length - size) : Buffer.concat([Buffer.alloc(size - b.length), b]));
    const sig = Buffer.concat([pad(rs.unsigned()), pad(rs.unsigned())]);
    valid = format === key.type && verify(key.curveHash!, signed, { key: key.key, dsaEncoding: 'ieee-p1363' }, sig);
  }
  return { keyBlob, fingerprint, namespace, valid };
}
