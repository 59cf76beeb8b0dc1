// A raw git commit or tag object split as git splits it for `verify-commit` / `verify-tag`: a commit's
// signature is its `gpgsig` header (continuation lines start with a space), and the payload is the object
// without that header; a tag's signature is appended to its message, and the payload is what precedes it.
// Bytes are kept exact (latin1 round-trips every byte): a signature covers them, not their text.
import type { SignedObject } from '../../core/signature.js';

const SIGNATURE_HEADERS = ['gpgsig', 'gpgsig-sha256'];
const ARMOR_STARTS = ['-----BEGIN PGP SIGNATURE-----', '-----BEGIN SSH SIGNATURE-----', '-----BEGIN SIGNED MESSAGE-----'];

export function splitCommit(oid: string, raw: Uint8Array): SignedObject {
  const text = Buffer.from(raw).toString('latin1');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end + 1);
  const lines = head.split('\n');
  const kept: string[] = [];
  let signature: string[] | undefined;
  let inSignature = false;
  for (const line of lines) {
    if (inSignature && line.startsWith(' ')) {
      signature!.push(line.slice(1));
      continue;
    }
    inSignature = false;
    const name = line.slice(0, line.indexOf(' '));
    if (SIGNATURE_HEADERS.includes(name) && signature === undefined) {
      signature = [line.slice(name.length + 1)];
      inSignature = true;
      continue;
    }
    kept.push(line);
  }
  const payload = kept.join('\n') + (end < 0 ? '' : text.slice(end + 1));
  return {
    kind: 'commit',
    oid,
    payload: Buffer.from(payload, 'latin1'),
    ...(signature ? { signature: `${signature.join('\n')}\n` } : {}),
    ...timestampOf(head, 'committer'),
  };
}

export function splitTag(oid: string, raw: Uint8Array): SignedObject {
  const text = Buffer.from(raw).toString('latin1');
  let at = -1;
  for (const start of ARMOR_STARTS) {
    const i = text.lastIndexOf(`\n${start}`);
    if (i > at) at = i;
  }
  if (text.startsWith('-----BEGIN')) at = -1;
  return {
    kind: 'tag',
    oid,
    payload: Buffer.from(at < 0 ? text : text.slice(0, at + 1), 'latin1'),
    ...(at < 0 ? {} : { signature: text.slice(at + 1) }),
    ...timestampOf(text.slice(0, text.indexOf('\n\n') + 1), 'tagger'),
  };
}

/** `committer Name <mail> 1700000000 +0000` -> 1700000000. */
function timestampOf(head: string, header: string): { timestamp?: number } {
  const line = head.split('\n').find((l) => l.startsWith(`${header} `));
  const match = line && /> (\d+) [+-]\d{4}$/.exec(line);
  return match ? { timestamp: Number(match[1]) } : {};
}
