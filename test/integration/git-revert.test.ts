// The guard's write-back on a real git server (git http-backend with receive-pack on): a revert of the
// tip authored as the agent and pushed without force; a branch that moved on, a hook that refuses the
// push, and missing credentials are said and left to a human.
import { chmodSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitReverter } from '../../src/adapters/git/git-revert.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';

const AUTH = { username: 'agent', password: 'push-token-55aa' };

describe('pushing a revert (isomorphic-git against git http-backend)', () => {
  let repo: TestRepo;
  let server: GitServer;
  let cache: string;
  const author = { name: 'switchyard (test)', email: 'switchyard@host.example' };
  const reverter = (auth?: typeof AUTH) => new GitReverter({ repo: `${server.url}/desired.git`, branch: 'main', cacheDir: cache, author, ...(auth ? { auth: () => auth } : {}) });
  beforeAll(async () => {
    repo = new TestRepo();
    repo.git('-C', repo.bare, 'config', 'http.receivepack', 'true');
    server = await startGitServer(repo.root, AUTH);
    cache = mkdtempSync(join(tmpdir(), 'sy-cache-'));
  });
  afterAll(async () => {
    await server.close();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it('reverts the tip: the tree of its parent, authored as the agent, with the figures, fast-forward', async () => {
    const good = repo.commit('web: blue', { 'apps/web.yaml': 'active: blue\n', 'apps/db.yaml': 'x: 1\n' });
    const bad = repo.commit('web: flip to green', { 'apps/web.yaml': 'active: green\n' });
    const result = await reverter(AUTH).revert(bad, 'switchyard guard, app web: error rate 7.2% over 311 requests in 41 s; limit 1%.');
    expect(result).toMatchObject({ ok: true, branch: 'main' });
    repo.git('fetch', '-q', 'origin');
    const tip = repo.git('rev-parse', 'origin/main');
    expect(result.ok && result.commit).toBe(tip);
    expect(repo.git('rev-parse', 'origin/main^')).toBe(bad);
    expect(repo.git('rev-parse', 'origin/main^{tree}')).toBe(repo.git('rev-parse', `${good}^{tree}`));
    expect(repo.git('log', '-1', '--format=%an <%ae>%n%B', 'origin/main')).toBe(
      `switchyard (test) <switchyard@host.example>\nRevert "web: flip to green"\n\nThis reverts commit ${bad}.\n\nswitchyard guard, app web: error rate 7.2% over 311 requests in 41 s; limit 1%.`,
    );
    repo.git('merge', '-q', '--ff-only', 'origin/main');
  });

  it('leaves it to a human when the branch moved on, when a hook refuses the push, and without credentials', async () => {
    const bad = repo.commit('web: to green again', { 'apps/web.yaml': 'active: green\n' });
    const later = repo.commit('db: unrelated', { 'apps/db.yaml': 'x: 2\n' });
    expect(await reverter(AUTH).revert(bad, 'figures')).toEqual({ ok: false, why: `main moved on since (its tip is ${later.slice(0, 12)}); not reverting ${bad.slice(0, 12)} under someone else's commit` });

    const tip = repo.commit('web: green once more', { 'apps/web.yaml': 'active: green\n' });
    const hook = join(repo.bare, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "main is protected: open a pull request" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    try {
      const refused = await reverter(AUTH).revert(tip, 'figures');
      expect(refused).toMatchObject({ ok: false, why: expect.stringMatching(/^the server refused the push to main: .*pre-receive hook declined.*\(the server said: main is protected: open a pull request\)$/) });
    } finally {
      rmSync(hook);
    }
    expect(repo.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0]).toBe(tip);

    const anonymous = await reverter().revert(tip, 'figures');
    expect(anonymous).toMatchObject({ ok: false, why: expect.stringMatching(/401/) });
    const wrong = await reverter({ username: 'agent', password: 'wrong-secret-9911' }).revert(tip, 'figures');
    expect(wrong).toMatchObject({ ok: false });
    expect(JSON.stringify(wrong)).not.toContain('wrong-secret-9911');
  });
});
