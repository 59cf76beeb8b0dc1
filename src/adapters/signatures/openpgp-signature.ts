// OpenPGP signatures (git's default `gpg.format openpgp`), checked with openpgp.js against the armored
// public keys of `verify.gpgKeys`: never the host's own keyring. A key that is revoked, or expired at the
// time of the check, does not sign, as `git verify-commit` refuses EXPKEYSIG and REVKEYSIG.
//   openpgp.js is loaded on first use: it holds some 20 MB (a 16 MB buffer, cipher tables) that an agent
//   verifying nothing, or only SSH signatures, should not carry.
import type * as OpenPGP from 'openpgp';
import type { Verdict } from '../../core/signature.js';

const load = (): Promise<typeof OpenPGP> => import('openpgp');

export async function readArmoredKeys(text: string): Promise<OpenPGP.Key[]> {
  return (await load()).readKeys({ armoredKeys: text });
}

export async function checkOpenpgpSignature(armored: string, payload: Uint8Array, keys: readonly OpenPGP.Key[], now: number): Promise<Verdict> {
  const openpgp = await load();
  let signature: OpenPGP.Signature;
  try {
    signature = await openpgp.readSignature({ armoredSignature: armored });
  } catch (e) {
    return { ok: false, why: `its OpenPGP signature cannot be read: ${(e as Error).message}` };
  }
  const packet = signature.packets[0];
  if (!packet) return { ok: false, why: 'its OpenPGP signature is empty' };
  const keyID = packet.issuerKeyID;
  const named = packet.issuerFingerprint ? Buffer.from(packet.issuerFingerprint).toString('hex').toUpperCase() : keyID.toHex().toUpperCase();
  const key = keys.find((k) => k.getKeys(keyID).length > 0);
  if (!key) return { ok: false, why: `it is signed by OpenPGP key ${named}, which is not among the keys in verify.gpgKeys`, fingerprint: named };
  const fingerprint = key.getFingerprint().toUpperCase();
  const identity = key.getUserIDs()[0];
  const date = new Date(now);
  if (await key.isRevoked(undefined, undefined, date)) return { ok: false, why: `it is signed by OpenPGP key ${fingerprint}${identity ? ` (${identity})` : ''}, which is revoked`, fingerprint };
  const expires = await key.getExpirationTime().catch(() => null);
  if (expires instanceof Date && expires.getTime() <= now) return { ok: false, why: `it is signed by OpenPGP key ${fingerprint}${identity ? ` (${identity})` : ''}, which expired on ${expires.toISOString()}`, fingerprint };
  try {
    await key.getSigningKey(keyID, date);
  } catch (e) {
    return { ok: false, why: `it is signed by OpenPGP key ${fingerprint}, whose signing key cannot sign now: ${(e as Error).message}`, fingerprint };
  }
  try {
    const message = await openpgp.createMessage({ binary: payload });
    const result = await openpgp.verify({ message, signature, verificationKeys: [key], date, format: 'binary', expectSigned: false });
    await result.signatures[0]!.verified;
  } catch (e) {
    return { ok: false, why: `its OpenPGP signature by key ${fingerprint} does not match its content (${(e as Error).message})`, fingerprint };
  }
  return { ok: true, signer: { format: 'openpgp', fingerprint, ...(identity ? { identity } : {}) } };
}
