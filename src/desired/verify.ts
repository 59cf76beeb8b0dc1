// The rule of `verify`: before a commit is loaded, the object the mode names must carry a good signature
// by a listed key: the commit itself (mode head), or the annotated tag that was followed to it (mode
// tag). Anything else refuses the commit whole, as an invalid one is, with the signer's key when the
// signature names one. The checking of signatures themselves is the verifier's (adapters/signatures/).
import { SwitchyardError } from '../core/errors.js';
import type { SignatureVerifier, Signer } from '../core/signature.js';
import type { Snapshot } from '../core/source.js';

export interface VerifyPolicy {
  mode: 'head' | 'tag';
  verifier: SignatureVerifier;
}

export type Verification = { ok: true; signer: Signer; what: string } | { ok: false; error: SwitchyardError; fingerprint?: string };

export async function verifySnapshot(snapshot: Snapshot, policy: VerifyPolicy, now: number): Promise<Verification> {
  const short = snapshot.commit.slice(0, 12);
  if (policy.mode === 'tag') {
    const tagName = snapshot.ref?.startsWith('refs/tags/') ? snapshot.ref.slice('refs/tags/'.length) : undefined;
    if (!snapshot.tag) {
      const why = tagName ? `tag ${tagName} is a lightweight tag: it carries no signature` : `${snapshot.ref ?? 'the ref'} is not a tag, and verify.mode is "tag"`;
      return refused(`commit ${short} is refused: ${why}`, 'make it an annotated tag signed by a listed key (git tag -s), or use verify.mode: head');
    }
    const verdict = await policy.verifier.verify(snapshot.tag, now);
    if (verdict.ok) return { ok: true, signer: verdict.signer, what: `tag ${tagName}` };
    return refused(`commit ${short} is refused: tag ${tagName} is not verified: ${verdict.why}`, hintFor(verdict.fingerprint, 'git tag -s'), verdict.fingerprint);
  }
  if (!snapshot.signed) return refused(`commit ${short} is refused: the source gave no signature to check`, 'use a git source');
  const verdict = await policy.verifier.verify(snapshot.signed, now);
  if (verdict.ok) return { ok: true, signer: verdict.signer, what: `commit ${short}` };
  return refused(`commit ${short} is refused: ${verdict.why}`, hintFor(verdict.fingerprint, 'git commit -S'), verdict.fingerprint);
}

function hintFor(fingerprint: string | undefined, sign: string): string {
  const fix = fingerprint
    ? 'if that key should deploy, list it in verify (allowedSigners or gpgKeys); otherwise find out who pushed this'
    : `sign with a key listed in verify (${sign}), or have the forge sign merges`;
  return `${fix}; the last verified commit stays in force and only a new commit is checked again`;
}

function refused(message: string, hint: string, fingerprint?: string): Verification {
  return { ok: false, error: new SwitchyardError('UnverifiedCommit', message, { hint }), ...(fingerprint ? { fingerprint } : {}) };
}
