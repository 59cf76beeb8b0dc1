// The SSH wire encoding (RFC 4251 §5) of keys and signatures, read into node crypto's key objects: just
// what an SSHSIG check needs (ed25519, RSA, ECDSA on the NIST curves).
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

export class WireReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  bytes(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new Error('truncated');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }

  string(): Buffer {
    return this.bytes(this.uint32());
  }

  /** An mpint without its sign byte. */
  unsigned(): Buffer {
    const b = this.string();
    return b[0] === 0 ? b.subarray(1) : b;
  }

  get done(): boolean {
    return this.at === this.buf.length;
  }
}

export function wireString(b: Buffer | string): Buffer {
  const data = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/** `SHA256:…` as ssh-keygen prints it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

const CURVES: Record<string, { jwk: string; size: number; hash: string }> = {
  nistp256: { jwk: 'P-256', size: 32, hash: 'sha256' },
  nistp384: { jwk: 'P-384', size: 48, hash: 'sha384' },
  nistp521: { jwk: 'P-521', size: 66, hash: 'sha512' },
};

export interface PublicKey {
  type: string;
  key: KeyObject;
  /** ECDSA only: the coordinate size, for the signature's (r, s). */
  curveSize?: number;
  curveHash?: string;
}

const b64u = (b: Buffer) => b.toString('base64url');

export function readPublicKey(blob: Buffer): PublicKey {
  const r = new WireReader(blob);
  const type = r.string().toString();
  if (type === 'ssh-ed25519') {
    const x = r.string();
    return { type, key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(x) }, format: 'jwk' }) };
  }
  if (type === 'ssh-rsa') {
    const e = r.unsigned();
    const n = r.unsigned();
    return { type, key: createPublicKey({ key: { kty: 'RSA', e: b64u(e), n: b64u(n) }, format: 'jwk' }) };
  }
  const ec = /^ecdsa-sha2-(nistp\d+)$/.exec(type);
  if (ec && CURVES[ec[1]!]) {
    const curve = CURVES[ec[1]!]!;
    r.string();
    const q = r.string();
    if (q[0] !== 4 || q.length !== 1 + 2 * curve.size) throw new Error('unsupported ECDSA point encoding');
    const x = q.subarray(1, 1 + curve.size);
    const y = q.subarray(1 + curve.size);
    return { type, key: createPublicKey({ key: { kty: 'EC', crv: curve.jwk, x: b64u(x), y: b64u(y) }, format: 'jwk' }), curveSize: curve.size, curveHash: curve.hash };
  }
  throw new Error(`key type ${type} is not supported (use ed25519, RSA or ECDSA)`);
}
