// What the agent follows, on real repositories: a branch, a tag (followed when it moves), the newest tag
// in a semver range, a pinned commit and a full ref such as refs/pull/N/head, over smart HTTP (git
// http-backend) and from a local path, with the round trips counted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitSource } from '../../src/adapters/git/git-source.js';
import { parseRef, type GitRef } from '../../src/core/git-ref.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('refs: branch, tag, semver, pinned commit (real git, smart HTTP and local)', () => {
  let repo: TestRepo;
  let server: GitServer;
  let cache: string;
  const c: Record<string, string> = {};
  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    cache = mkdtempSync(join(tmpdir(), 'sy-cache-'));
    c.one = repo.commit('one', { 'apps/web.yaml': 'name: one\n' });
    repo.tag('v1.0.0');
    c.two = repo.commit('two', { 'apps/web.yaml': 'name: two\n' });
    repo.tag('v1.2.0');
    repo.tag('light', { lightweight: true });
    c.pre = repo.commit('pre', { 'apps/web.yaml': 'name: pre\n' });
    repo.tag('v1.3.0-rc.1');
    c.three = repo.commit('three', { 'apps/web.yaml': 'name: three\n' });
    repo.tag('2.0.0');
    c.tip = repo.commit('tip', { 'apps/web.yaml': 'name: tip\n' });
    repo.git('push', '-q', 'origin', `${c.one}:refs/pull/7/head`);
  });
  afterAll(async () => {
    await server.close();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  const where = { remote: () => `${server.url}/desired.git`, local: () => repo.bare };
  const source = (at: keyof typeof where, ref: GitRef) => new GitSource({ repo: where[at](), ref, cacheDir: cache });
  const web = async (s: GitSource) => {
    const snap = await s.latest();
    return { commit: snap.commit, ref: snap.ref, file: text(snap.files.find((f) => f.path === 'apps/web.yaml')!.content), tag: snap.tag?.oid };
  };

  for (const at of ['remote', 'local'] as const) {
    it(`${at}: follows a branch, a tag, a lightweight tag, a semver range, a pinned commit`, async () => {
      expect(await web(source(at, parseRef('main')))).toMatchObject({ commit: c.tip, ref: 'refs/heads/main', file: 'name: tip\n', tag: undefined });
      const tag = await web(source(at, parseRef('refs/tags/v1.0.0')));
      expect(tag).toMatchObject({ commit: c.one, ref: 'refs/tags/v1.0.0', file: 'name: one\n' });
      // An annotated tag is its own object: the snapshot carries it, for a signature check.
      expect(tag.tag).toBe(repo.git('rev-parse', 'v1.0.0'));
      expect(tag.tag).not.toBe(c.one);
      expect(await web(source(at, parseRef('refs/tags/light')))).toMatchObject({ commit: c.two, tag: undefined });
      // The newest in range; a prerelease only when the range names one; a leading v is allowed, none needed.
      expect(await web(source(at, parseRef('main', '>=1.0.0 <2')))).toMatchObject({ commit: c.two, ref: 'refs/tags/v1.2.0' });
      expect(await web(source(at, parseRef('main', '>=1.3.0-rc.0 <2')))).toMatchObject({ commit: c.pre, ref: 'refs/tags/v1.3.0-rc.1' });
      expect(await web(source(at, parseRef('main', '^2')))).toMatchObject({ commit: c.three, ref: 'refs/tags/2.0.0' });
      // A pinned commit that is not a branch tip.
      expect(await web(source(at, parseRef(c.two!)))).toMatchObject({ commit: c.two, ref: c.two, file: 'name: two\n' });
      expect(await web(source(at, parseRef('refs/pull/7/head')))).toMatchObject({ commit: c.one, ref: 'refs/pull/7/head' });
    });

    it(`${at}: says what is missing: a tag, a range with no tag, a commit that is not there`, async () => {
      await expect(source(at, parseRef('refs/tags/v9')).latest()).rejects.toMatchObject({ code: 'FetchFailed', message: expect.stringMatching(/refs\/tags\/v9/) });
      await expect(source(at, parseRef('main', '^5')).latest()).rejects.toMatchObject({ code: 'FetchFailed', message: expect.stringMatching(/no tag .*matches semver "\^5" \(tags: .*v1\.0\.0/) });
      await expect(source(at, parseRef('0'.repeat(40))).latest()).rejects.toMatchObject({ code: 'FetchFailed', message: expect.stringContaining('0'.repeat(40)) });
    });
  }

  it('remote: checks a tag or a range with one ls-refs round trip, follows a tag that moves, and never asks about a pinned commit again', async () => {
    const tagSource = source('remote', parseRef('refs/tags/v1.2.0'));
    const range = source('remote', parseRef('main', '~1.2'));
    expect((await tagSource.latest()).commit).toBe(c.two);
    expect((await range.latest()).commit).toBe(c.two);
    for (const s of [tagSource, range]) {
      const before = server.requests.length;
      await s.latest();
      const made = server.requests.slice(before);
      // One ls-refs exchange (the advertisement, then the command), and no pack.
      expect(made).toEqual(['GET /desired.git/info/refs?service=git-upload-pack', 'POST /desired.git/git-upload-pack']);
    }

    // The tag is moved to the tip (git tag -f, push -f): followed on the next call.
    repo.tag('v1.2.0', { target: c.tip! });
    expect((await tagSource.latest()).commit).toBe(c.tip);
    // A newer tag in range: the range follows it.
    repo.tag('v1.2.5', { target: c.three! });
    expect(await web(range)).toMatchObject({ commit: c.three, ref: 'refs/tags/v1.2.5' });

    const pinned = source('remote', parseRef(c.one!));
    expect((await pinned.latest()).commit).toBe(c.one);
    const before = server.requests.length;
    repo.commit('later');
    expect((await pinned.latest()).commit).toBe(c.one);
    expect(server.requests.slice(before)).toEqual([]);
  });
});
