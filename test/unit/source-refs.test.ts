// The pure parts of following a ref and checking a signature: ref parsing, the semver choice, how git
// splits a signed object, and the allowed-signers format.
import { describe, expect, it } from 'vitest';
import { parseAllowedSigners, signerAllows } from '../../src/adapters/signatures/allowed-signers.js';
import { splitCommit, splitTag } from '../../src/adapters/git/signed-object.js';
import { newestInRange, parseRef } from '../../src/core/git-ref.js';

const SHA = 'a'.repeat(40);

describe('refs', () => {
  it('reads a branch, a tag, a pinned commit, another full ref, and a semver range', () => {
    expect(parseRef('main')).toEqual({ kind: 'branch', name: 'main' });
    expect(parseRef('refs/heads/release/1.x')).toEqual({ kind: 'branch', name: 'release/1.x' });
    expect(parseRef('refs/tags/v1.2.0')).toEqual({ kind: 'tag', name: 'v1.2.0' });
    expect(parseRef(SHA)).toEqual({ kind: 'commit', sha: SHA });
    expect(parseRef('refs/pull/42/head')).toEqual({ kind: 'ref', name: 'refs/pull/42/head' });
    expect(parseRef('main', '>=1.2.0 <2')).toEqual({ kind: 'semver', range: '>=1.2.0 <2' });
    expect(() => parseRef('abc1234')).toThrow(/looks like a short commit id/);
    expect(() => parseRef('main', 'newest')).toThrow(/is not a version range/);
    expect(() => parseRef(SHA, '^1')).toThrow(/semver and ref .* both say what to follow/);
  });

  it('picks the newest tag in range: a v prefix allowed, prereleases only when asked, other names ignored', () => {
    const tags = ['v1.0.0', '1.2.0', 'v1.10.0', 'v2.0.0', 'v1.11.0-rc.1', 'latest', 'v1.9'];
    expect(newestInRange(tags, '>=1.0.0 <2')).toBe('v1.10.0');
    expect(newestInRange(tags, '>=1.11.0-rc.0 <2')).toBe('v1.11.0-rc.1');
    expect(newestInRange(tags, '~1.2')).toBe('1.2.0');
    expect(newestInRange(tags, '^3')).toBeUndefined();
  });
});

describe('signed objects, split as git splits them', () => {
  const enc = (s: string) => Buffer.from(s, 'latin1');
  it('takes a commit\'s gpgsig header (with its continuation lines) out of the payload, byte for byte', () => {
    const raw = `tree ${SHA}\nauthor A <a@x> 1700000000 +0000\ncommitter C <c@x> 1700000100 +0100\ngpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----\n\nmsg \xe9\n\nbody\n`;
    const split = splitCommit(SHA, enc(raw));
    expect(Buffer.from(split.payload).toString('latin1')).toBe(`tree ${SHA}\nauthor A <a@x> 1700000000 +0000\ncommitter C <c@x> 1700000100 +0100\n\nmsg \xe9\n\nbody\n`);
    expect(split.signature).toBe('-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n');
    expect(split.timestamp).toBe(1700000100);
    expect(splitCommit(SHA, enc(`tree ${SHA}\n\nunsigned\n`)).signature).toBeUndefined();
  });

  it('takes a tag\'s signature from the end of its message', () => {
    const head = `object ${SHA}\ntype commit\ntag v1\ntagger T <t@x> 1700000200 +0000\n\nrelease v1\n`;
    const sig = '-----BEGIN PGP SIGNATURE-----\n\niHUE\n-----END PGP SIGNATURE-----\n';
    const split = splitTag(SHA, enc(head + sig));
    expect(Buffer.from(split.payload).toString('latin1')).toBe(head);
    expect(split.signature).toBe(sig);
    expect(split.timestamp).toBe(1700000200);
    expect(splitTag(SHA, enc(head)).signature).toBeUndefined();
  });
});

describe('allowed signers', () => {
  it('reads principals, options (quoted, with commas) and the key; skips comments; names bad lines', () => {
    const text = [
      '# deployers',
      'alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE alice',
      '"bob@example.com,ci@example.com" namespaces="git,file",valid-after="20260101",valid-before="20270101Z" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF',
      'carol@example.com cert-authority ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG',
      'broken-line',
      'dave@example.com valid-after="soon" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH',
    ].join('\n');
    const { signers, problems } = parseAllowedSigners(text, 'allowed_signers');
    expect(signers.map((s) => s.principals)).toEqual(['alice@example.com', 'bob@example.com,ci@example.com']);
    expect(signers[1]).toMatchObject({ namespaces: ['git', 'file'], validAfter: Date.UTC(2026, 0, 1), validBefore: Date.UTC(2027, 0, 1), line: 3 });
    expect(problems).toEqual([
      'allowed_signers:4: cert-authority keys are not supported; list the key itself',
      'allowed_signers:5: expected "principals [options] keytype key"',
      'allowed_signers:6: valid-after="soon" is not YYYYMMDD[HHMM[SS]][Z]',
    ]);
    const bob = signers[1]!;
    expect(signerAllows(bob, 'git', Date.UTC(2026, 5, 1))).toBeUndefined();
    expect(signerAllows(bob, 'git', Date.UTC(2025, 5, 1))).toMatch(/valid only after 2026-01-01/);
    expect(signerAllows(bob, 'git', Date.UTC(2027, 5, 1))).toMatch(/valid only before 2027-01-01/);
    expect(signerAllows({ ...bob, namespaces: ['file'] }, 'git', Date.UTC(2026, 5, 1))).toMatch(/does not allow namespace "git"/);
  });
});
