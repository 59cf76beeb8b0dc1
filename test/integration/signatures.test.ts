// Signature verification on real signatures: keys made with ssh-keygen and gpg, commits and tags signed
// by the git CLI and pushed to a smart-HTTP server, fetched by the agent's own source and judged by the
// agent's own rule (desired/verify.ts) and verifier. Each verdict is held against git's own
// (`git verify-commit` / `verify-tag` with the same keys), so the two cannot drift apart unseen.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitSource } from '../../src/adapters/git/git-source.js';
import { FileSignatureVerifier } from '../../src/adapters/signatures/file-verifier.js';
import { checkSshSignature } from '../../src/adapters/signatures/sshsig.js';
import { parseRef } from '../../src/core/git-ref.js';
import { verifySnapshot, type VerifyPolicy } from '../../src/desired/verify.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { makeGpgKey, makeSshKey, type GpgKey, type SshKey } from '../support/signing.js';

describe('signed commits and tags (ssh-keygen, gpg, the git CLI, smart HTTP)', () => {
  let repo: TestRepo;
  let server: GitServer;
  let cache: string;
  let keys: string;
  let alice: SshKey;
  let mallory: SshKey;
  let bob: GpgKey;
  let expired: GpgKey;
  let revoked: GpgKey;
  let allowedSigners: string;
  let gpgKeys: string;
  /** A keyring holding the listed OpenPGP keys, for git's own verdict. */
  let gitKeyring: string;
  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    cache = mkdtempSync(join(tmpdir(), 'sy-cache-'));
    keys = join(repo.root, 'keys');
    alice = makeSshKey(keys, 'alice');
    mallory = makeSshKey(keys, 'mallory');
    bob = makeGpgKey(keys, 'bob');
    // Made (and dated) in 2020 with one day to live: long expired now.
    expired = makeGpgKey(keys, 'old', { expire: '1d', fakedTime: '20200101T000000' });
    revoked = makeGpgKey(keys, 'gone');
    allowedSigners = join(keys, 'allowed_signers');
    writeFileSync(allowedSigners, `# who may deploy\n${alice.allowedSignersLine('alice@example.com', 'namespaces="git"')}\n`);
    gpgKeys = join(keys, 'gpg');
    mkdirSync(gpgKeys);
    gitKeyring = join(keys, 'git-keyring');
    mkdirSync(gitKeyring, { mode: 0o700 });
  });
  afterAll(async () => {
    await server.close();
    spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: gitKeyring } });
    for (const k of [bob, expired, revoked]) spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: k.home } });
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  /** The listed OpenPGP keys as exported now (a revocation goes with its key), for the agent and for git. */
  function publishGpgKeys(): void {
    for (const k of [bob, expired, revoked]) {
      const file = join(gpgKeys, `${k.fingerprint}.asc`);
      writeFileSync(file, k.exportPublic());
      spawnSync('gpg', ['--homedir', gitKeyring, '--batch', '--import', file]);
    }
  }

  const policy = (mode: 'head' | 'tag'): VerifyPolicy => ({ mode, verifier: new FileSignatureVerifier({ allowedSigners, gpgKeys }) });

  async function judge(ref: string, mode: 'head' | 'tag') {
    const source = new GitSource({ repo: `${server.url}/desired.git`, ref: parseRef(ref), cacheDir: cache });
    const snapshot = await source.latest();
    const verdict = await verifySnapshot(snapshot, policy(mode), Date.now());
    return { snapshot, verdict, message: verdict.ok ? '' : verdict.error.toString(), fingerprint: verdict.ok ? verdict.signer.fingerprint : verdict.fingerprint };
  }

  /** git's own verdict, with the same allowed signers and OpenPGP keys. */
  function gitSays(verb: 'verify-commit' | 'verify-tag', what: string): boolean {
    const r = spawnSync('git', ['-c', `gpg.ssh.allowedSignersFile=${allowedSigners}`, verb, what], { cwd: repo.work, env: { ...process.env, GNUPGHOME: gitKeyring }, encoding: 'utf8' });
    return r.status === 0;
  }

  it('passes a commit signed by a listed SSH key, and by a listed OpenPGP key, naming the signer', async () => {
    publishGpgKeys();
    const bySsh = repo.commitSigned(alice, 'ssh-signed', { 'apps/web.yaml': 'name: web\n' });
    const a = await judge('main', 'head');
    expect(a.snapshot.commit).toBe(bySsh);
    expect(a.verdict).toEqual({ ok: true, what: `commit ${bySsh.slice(0, 12)}`, signer: { format: 'ssh', fingerprint: alice.fingerprint, identity: 'alice@example.com' } });
    expect(gitSays('verify-commit', bySsh)).toBe(true);

    const byGpg = repo.commitSigned(bob, 'gpg-signed');
    const b = await judge('main', 'head');
    expect(b.snapshot.commit).toBe(byGpg);
    expect(b.verdict).toMatchObject({ ok: true, signer: { format: 'openpgp', fingerprint: bob.fingerprint, identity: 'bob <bob@example.com>' } });
    expect(gitSays('verify-commit', byGpg)).toBe(true);
  });

  it('refuses an unsigned commit, one signed by an unlisted key, and an expired or revoked OpenPGP key, each with the key and a hint', async () => {
    const cases: { name: string; make: () => string; message: RegExp; fingerprint?: () => string }[] = [
      { name: 'unsigned', make: () => repo.commit('unsigned'), message: /is refused: it carries no signature \(hint: sign with a key listed in verify/ },
      { name: 'unlisted SSH key', make: () => repo.commitSigned(mallory, 'mallory'), message: /is refused: it is signed by SSH key SHA256:\S+, which is not in .*allowed_signers \(hint: if that key should deploy, list it in verify/, fingerprint: () => mallory.fingerprint },
      { name: 'expired OpenPGP key', make: () => repo.commitSigned(expired, 'expired'), message: /which expired on 2020-01-02T00:00:00\.000Z/, fingerprint: () => expired.fingerprint },
      { name: 'revoked OpenPGP key', make: () => revokeAfter(repo.commitSigned(revoked, 'revoked')), message: /\(gone <gone@example\.com>\), which is revoked/, fingerprint: () => revoked.fingerprint },
    ];
    // Signed while good, revoked after (gpg signs with no revoked key), the revocation published with the key.
    const revokeAfter = (commit: string) => {
      revoked.revoke();
      publishGpgKeys();
      return commit;
    };
    for (const c of cases) {
      const commit = c.make();
      const r = await judge('main', 'head');
      expect(r.snapshot.commit, c.name).toBe(commit);
      expect(r.verdict.ok, c.name).toBe(false);
      expect(r.message, c.name).toMatch(new RegExp(`^commit ${commit.slice(0, 12)} is refused: `));
      expect(r.message, c.name).toMatch(c.message);
      expect(r.fingerprint, c.name).toBe(c.fingerprint?.());
      expect(r.verdict.ok ? undefined : r.verdict.error.code).toBe('UnverifiedCommit');
      expect(gitSays('verify-commit', commit), `git's verdict on ${c.name}`).toBe(false);
    }
  });

  it('refuses a tampered commit: a listed key\'s signature over other bytes', async () => {
    const good = repo.commitSigned(alice, 'deploy web 1.0', { 'apps/web.yaml': 'name: web\nimage: web:1.0\n' });
    // Same signature, same tree, another message: written as a raw object and force-pushed.
    const raw = repo.git('cat-file', 'commit', good);
    const forged = spawnSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo.work, input: `${raw.replace('deploy web 1.0', 'deploy web 6.6')}\n`, encoding: 'utf8' }).stdout.trim();
    repo.git('push', '-q', '-f', 'origin', `${forged}:refs/heads/main`);
    const r = await judge('main', 'head');
    expect(r.snapshot.commit).toBe(forged);
    expect(r.snapshot.info.message).toBe('deploy web 6.6');
    expect(r.message).toMatch(/is refused: its SSH signature by SHA256:\S+ does not match its content/);
    expect(r.fingerprint).toBe(alice.fingerprint);
    expect(gitSays('verify-commit', forged)).toBe(false);
    expect(gitSays('verify-commit', good)).toBe(true);
    repo.git('push', '-q', '-f', 'origin', `${good}:refs/heads/main`);
  });

  it('in tag mode, passes a tag signed by a listed key and refuses an unsigned or lightweight one (and a signed commit does not stand in for its tag)', async () => {
    const commit = repo.commitSigned(alice, 'release 1.4');
    repo.tag('v1.4.0', { key: alice });
    const signed = await judge('refs/tags/v1.4.0', 'tag');
    expect(signed.snapshot.commit).toBe(commit);
    expect(signed.verdict).toMatchObject({ ok: true, what: 'tag v1.4.0', signer: { fingerprint: alice.fingerprint } });
    expect(gitSays('verify-tag', 'v1.4.0')).toBe(true);

    repo.tag('v1.5.0');
    const unsigned = await judge('refs/tags/v1.5.0', 'tag');
    expect(unsigned.message).toMatch(/is refused: tag v1\.5\.0 is not verified: it carries no signature \(hint: sign with a key listed in verify \(git tag -s\)/);
    expect(gitSays('verify-tag', 'v1.5.0')).toBe(false);

    repo.tag('v1.6.0', { lightweight: true });
    expect((await judge('refs/tags/v1.6.0', 'tag')).message).toMatch(/tag v1\.6\.0 is a lightweight tag: it carries no signature/);

    repo.tag('v1.7.0', { key: mallory });
    const unlisted = await judge('main', 'head');
    expect(unlisted.verdict.ok).toBe(true);
    const byTag = await judge('refs/tags/v1.7.0', 'tag');
    expect(byTag.message).toMatch(/tag v1\.7\.0 is not verified: it is signed by SSH key \S+, which is not in/);
    expect(byTag.fingerprint).toBe(mallory.fingerprint);
  });

  it('checks RSA and ECDSA keys as well as ed25519 (signed by ssh-keygen -Y sign), and only in the git namespace', async () => {
    const payload = join(keys, 'payload');
    writeFileSync(payload, 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1700000000 +0000\n\nrelease\n');
    const sign = (key: SshKey, namespace: string) => {
      rmSync(`${payload}.sig`, { force: true });
      spawnSync('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', key.path, payload], { encoding: 'utf8' });
      return readFileSync(`${payload}.sig`, 'utf8');
    };
    const bytes = readFileSync(payload);
    for (const type of [['rsa', '3072'], ['ecdsa', '256'], ['ecdsa', '384'], ['ecdsa', '521'], ['ed25519']] as [string, string?][]) {
      const key = makeSshKey(keys, `k-${type.join('-')}`, type);
      const sig = checkSshSignature(sign(key, 'git'), bytes);
      expect({ type, valid: sig.valid, fingerprint: sig.fingerprint, namespace: sig.namespace }).toEqual({ type, valid: true, fingerprint: key.fingerprint, namespace: 'git' });
      expect(checkSshSignature(sign(key, 'git'), Buffer.concat([bytes, Buffer.from('x')])).valid, type.join('-')).toBe(false);
    }
    // A listed key's signature made for another namespace (a file signature, say) does not sign a commit.
    const signed = { kind: 'commit' as const, oid: '0'.repeat(40), payload: bytes, signature: sign(alice, 'file') };
    expect(await new FileSignatureVerifier({ allowedSigners }).verify(signed, Date.now())).toMatchObject({ ok: false, why: expect.stringMatching(/is for namespace "file", not "git"/) });
  });

  it('reads the allowed signers again at every check: a key removed no longer signs, a bad line is named', async () => {
    const commit = repo.commitSigned(alice, 'by alice');
    expect((await judge('main', 'head')).verdict.ok).toBe(true);
    const before = readFileSync(allowedSigners, 'utf8');
    writeFileSync(allowedSigners, 'alice@example.com ssh-ed25519\n');
    const r = await judge('main', 'head');
    expect(r.snapshot.commit).toBe(commit);
    expect(r.message).toMatch(/which is not in \S+ \(unreadable lines: \S+allowed_signers:1: expected "principals \[options\] keytype key"\)/);
    writeFileSync(allowedSigners, before);
  });
});
