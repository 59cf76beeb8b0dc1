// What a signature check is given and what it answers. A signed git object (a commit, or an annotated
// tag) is split the way git splits it: the bytes that were signed, and the armored signature. The
// verifier behind this interface (adapters/signatures/) knows SSH and OpenPGP; the rule of which object
// must be signed (the commit, or the tag) is desired/verify.ts.

export interface SignedObject {
  kind: 'commit' | 'tag';
  oid: string;
  /** The object without its signature: what the signer signed. */
  payload: Uint8Array;
  /** The armored signature, when there is one. */
  signature?: string;
  /** When it was made (committer or tagger time, seconds since the epoch): allowed-signers validity is judged then, as git does. */
  timestamp?: number;
}

export type SignatureFormat = 'ssh' | 'openpgp';

export interface Signer {
  format: SignatureFormat;
  /** SSH: `SHA256:…` of the public key; OpenPGP: the signing key's fingerprint (hex, upper case). */
  fingerprint: string;
  /** Who the key is for: the allowed-signers principals, or the OpenPGP user id. */
  identity?: string;
}

/** `fingerprint`: the key that made a signature that failed, where the signature names it. */
export type Verdict = { ok: true; signer: Signer } | { ok: false; why: string; fingerprint?: string };

export interface SignatureVerifier {
  /** Whether `object` carries a good signature by a listed key, judged at `now` (epoch ms) for key expiry and revocation. */
  verify(object: SignedObject, now: number): Promise<Verdict>;
}

/** `SSH key SHA256:… (alice@example.com)`, as plan, validate and the log say it. */
export function describeSigner(signer: Signer): string {
  return `${signer.format === 'ssh' ? 'SSH' : 'OpenPGP'} key ${signer.fingerprint}${signer.identity ? ` (${signer.identity})` : ''}`;
}
