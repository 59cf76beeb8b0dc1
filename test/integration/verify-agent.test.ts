// The agent with `verify` on a real repository (signed with ssh-keygen keys by the git CLI, served over
// smart HTTP): an unverified commit is refused whole and said everywhere (status, journal, notification),
// never looked at again until the ref moves, and the last verified commit stays in force, also across a
// restart. The runtime and data plane are the reconciler's fakes: what is judged here is the source step.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLastGood } from '../../src/adapters/files/last-good.js';
import { GitSource } from '../../src/adapters/git/git-source.js';
import { FileSignatureVerifier } from '../../src/adapters/signatures/file-verifier.js';
import { parseRef } from '../../src/core/git-ref.js';
import type { VerifyPolicy } from '../../src/desired/verify.js';
import { setup } from '../support/agent-world.js';
import { appYaml } from '../support/app-yaml.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { makeSshKey, type SshKey } from '../support/signing.js';

describe('the agent with verify (real signatures over smart HTTP)', () => {
  let repo: TestRepo;
  let server: GitServer;
  let cache: string;
  let alice: SshKey;
  let mallory: SshKey;
  let verify: VerifyPolicy;
  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    cache = mkdtempSync(join(tmpdir(), 'sy-cache-'));
    alice = makeSshKey(join(repo.root, 'keys'), 'alice');
    mallory = makeSshKey(join(repo.root, 'keys'), 'mallory');
    const allowed = join(repo.root, 'keys', 'allowed_signers');
    writeFileSync(allowed, `${alice.allowedSignersLine('alice@example.com')}\n`);
    verify = { mode: 'head', verifier: new FileSignatureVerifier({ allowedSigners: allowed }) };
  });
  afterAll(async () => {
    await server.close();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });
  const gitSource = () => new GitSource({ repo: `${server.url}/desired.git`, ref: parseRef('main'), cacheDir: cache });
  const creates = (calls: string[]) => calls.filter((c) => c.startsWith('create'));

  it('applies nothing until a verified commit arrives, refuses the others whole, and does not look at a refused commit again', async () => {
    const lastGood = new MemoryLastGood();
    const w = setup({ source: gitSource(), verify, lastGood });
    const unsigned = repo.commit('web: first, unsigned', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await w.agent.reconcile();
    expect(creates(w.runtime.calls)).toEqual([]);
    expect(w.router.table.size).toBe(0);
    expect(w.agent.status().desired).toMatchObject({ lastAttemptedCommit: unsigned, reason: 'UnverifiedCommit', errors: [expect.stringMatching(new RegExp(`^commit ${unsigned.slice(0, 12)} is refused: it carries no signature \\(hint: `))] });
    expect(w.agent.status().desired.commit).toBeUndefined();
    expect(lastGood.commit).toBeUndefined();

    // Passes go on; the refused commit is not judged, journaled or notified again.
    await w.agent.reconcile();
    await w.agent.reconcile();
    expect(w.journal.entries.map((e) => `${e.commit.slice(0, 7)}:${e.result}:${e.reason}`)).toEqual([`${unsigned.slice(0, 7)}:refused:UnverifiedCommit`]);
    expect(w.notified).toEqual([expect.objectContaining({ event: 'commit-refused', reason: 'UnverifiedCommit', commit: unsigned })]);

    const signed = repo.commitSigned(alice, 'web: signed', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await w.agent.reconcile();
    expect(w.router.table.get('web')?.color).toBe('blue');
    expect(w.agent.status().desired).toMatchObject({ commit: signed, lastAttemptedCommit: signed, errors: [], signer: { format: 'ssh', fingerprint: alice.fingerprint, identity: 'alice@example.com' } });
    expect(w.agent.status().desired.reason).toBeUndefined();
    expect(lastGood.commit).toBe(signed);

    // A flip signed by an unlisted key: refused whole, blue stays, the key is named.
    const flip = repo.commitSigned(mallory, 'web: to green', { 'apps/web.yaml': appYaml({ listen: 9000, active: 'green' }) });
    const before = w.runtime.calls.length;
    await w.agent.reconcile();
    expect(w.router.table.get('web')?.color).toBe('blue');
    expect(w.agent.status().desired).toMatchObject({ commit: signed, lastAttemptedCommit: flip, reason: 'UnverifiedCommit', fingerprint: mallory.fingerprint, signer: { fingerprint: alice.fingerprint } });
    expect(w.journal.entries.at(-1)).toMatchObject({ commit: flip, result: 'refused', reason: 'UnverifiedCommit', detail: expect.stringContaining(mallory.fingerprint) });
    expect(w.notified.at(-1)).toMatchObject({ event: 'commit-refused', commit: flip, fingerprint: mallory.fingerprint });
    expect(creates(w.runtime.calls.slice(before))).toEqual([]);

    // Self-healing goes on for the verified commit in force.
    const [blue] = w.runtime.byColor('web', 'blue');
    w.runtime.exit(blue!.id);
    await w.agent.reconcile();
    expect(creates(w.runtime.calls.slice(before))).toEqual(['create web/blue/0']);
    expect(w.router.table.get('web')?.color).toBe('blue');

    // A restart onto the refused tip: the last good commit is read again, verified again, and served; nothing is created.
    const again = setup({ source: gitSource(), verify, lastGood });
    for (const [id, t] of w.runtime.targets) again.runtime.targets.set(id, t);
    await again.agent.reconcile();
    expect(again.router.table.get('web')?.color).toBe('blue');
    expect(again.agent.status().desired).toMatchObject({ commit: signed, lastAttemptedCommit: flip, reason: 'UnverifiedCommit', signer: { fingerprint: alice.fingerprint } });
    expect(creates(again.runtime.calls)).toEqual([]);
  });

  it('in tag mode follows a signed tag when it moves, journals the move, and refuses it moved by an unsigned tag', async () => {
    const tagMode: VerifyPolicy = { ...verify, mode: 'tag' };
    const w = setup({ source: new GitSource({ repo: `${server.url}/desired.git`, ref: parseRef('refs/tags/release'), cacheDir: cache }), verify: tagMode });
    const one = repo.commit('web 1 (the commit itself unsigned: the tag signs)', { 'apps/web.yaml': appYaml({ listen: 9002 }) });
    repo.tag('release', { key: alice });
    await w.agent.reconcile();
    expect(w.router.table.get('web')?.color).toBe('blue');
    expect(w.agent.status().desired).toMatchObject({ commit: one, signer: { fingerprint: alice.fingerprint } });

    const two = repo.commit('web 2: to green', { 'apps/web.yaml': appYaml({ listen: 9002, active: 'green' }) });
    repo.tag('release', { key: alice });
    await w.agent.reconcile();
    expect(w.router.table.get('web')?.color).toBe('green');
    expect(w.journal.entries.filter((e) => e.app === '*')).toEqual([
      expect.objectContaining({ commit: two, result: 'moved', detail: `tag release moved from ${one.slice(0, 12)} to ${two.slice(0, 12)}` }),
    ]);

    const three = repo.commit('web 3: back to blue', { 'apps/web.yaml': appYaml({ listen: 9002 }) });
    repo.tag('release');
    await w.agent.reconcile();
    expect(w.router.table.get('web')?.color).toBe('green');
    expect(w.agent.status().desired).toMatchObject({ commit: two, lastAttemptedCommit: three, reason: 'UnverifiedCommit', errors: [expect.stringMatching(/tag release is not verified: it carries no signature/)] });
    expect(w.journal.entries.filter((e) => e.app === '*').map((e) => `${e.result}:${e.reason ?? '-'}`)).toEqual(['moved:-', 'moved:-', 'refused:UnverifiedCommit']);
  });

  it('with verify turned on over an unsigned last good commit, a restart applies nothing until a verified commit arrives', async () => {
    const lastGood = new MemoryLastGood();
    const unsigned = repo.commit('web: unsigned, applied before verify was on', { 'apps/web.yaml': appYaml({ listen: 9001 }) });
    lastGood.commit = unsigned;
    repo.commitSigned(mallory, 'web: by mallory', { 'apps/web.yaml': appYaml({ listen: 9001, active: 'green' }) });
    const w = setup({ source: gitSource(), verify, lastGood });
    await w.agent.reconcile();
    expect(w.router.table.size).toBe(0);
    expect(creates(w.runtime.calls)).toEqual([]);
    expect(w.agent.status().desired.commit).toBeUndefined();
  });
});
