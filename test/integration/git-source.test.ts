import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../../src/core/errors.js';
import { GitSource, MAX_PACKS, redactUrl } from '../../src/adapters/git/git-source.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('git source (isomorphic-git against git http-backend)', () => {
  let repo: TestRepo;
  let server: GitServer;
  let cache: string;
  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    cache = mkdtempSync(join(tmpdir(), 'sy-cache-'));
  });
  afterAll(async () => {
    await server.close();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it('fetches the branch tip over smart HTTP and reads the app files of that commit', async () => {
    const c1 = repo.commit('first', { 'apps/web.yaml': 'name: web\n', 'apps/notes.txt': 'x', 'README.md': '# r' });
    const source = new GitSource({ repo: `${server.url}/desired.git`, ref: { kind: 'branch', name: 'main' }, cacheDir: cache });
    const snap = await source.latest();
    expect(snap.commit).toBe(c1);
    expect(snap.info).toMatchObject({ author: 'Test Author <author@example.com>', message: 'first' });
    expect(snap.files.map((f) => [f.path, text(f.content)])).toEqual([
      ['apps/notes.txt', 'x'],
      ['apps/web.yaml', 'name: web\n'],
    ]);
  });

  it('checks with one ls-refs round trip and downloads nothing when the branch has not moved', async () => {
    const source = new GitSource({ repo: `${server.url}/desired.git`, ref: { kind: 'branch', name: 'main' }, cacheDir: cache });
    const first = await source.latest();
    const before = server.requests.length;
    const again = await source.latest();
    expect(again).toBe(first);
    const made = server.requests.slice(before);
    expect(made.filter((r) => r.startsWith('POST') && r.includes('git-upload-pack'))).toHaveLength(1);
    expect(made.some((r) => r.includes('info/refs'))).toBe(true);
  });

  it('sees a newly pushed commit on the next call', async () => {
    const source = new GitSource({ repo: `${server.url}/desired.git`, ref: { kind: 'branch', name: 'main' }, cacheDir: cache });
    await source.latest();
    const c2 = repo.commit('second', { 'apps/web.yaml': 'name: web2\n' });
    const snap = await source.latest();
    expect(snap.commit).toBe(c2);
    expect(text(snap.files.find((f) => f.path === 'apps/web.yaml')!.content)).toBe('name: web2\n');
  });

  it('reads a local repository from committed objects only, never the work tree', async () => {
    const c = repo.git('rev-parse', 'HEAD');
    repo.write('apps/web.yaml', 'name: uncommitted\n');
    const source = new GitSource({ repo: repo.work, ref: { kind: 'branch', name: 'main' }, cacheDir: cache });
    const snap = await source.latest();
    expect(snap.commit).toBe(c);
    expect(text(snap.files.find((f) => f.path === 'apps/web.yaml')!.content)).toBe('name: web2\n');
    repo.git('checkout', '--', 'apps/web.yaml');
  });

  it('reads apps/ under --path, and marks symlinks instead of following them', async () => {
    repo.write('envs/prod/apps/api.yaml', 'name: api\n');
    symlinkSync('/etc/passwd', join(repo.work, 'envs', 'prod', 'apps', 'link.yaml'));
    const c = repo.commit('prod env');
    const source = new GitSource({ repo: `${server.url}/desired.git`, ref: { kind: 'branch', name: 'main' }, path: 'envs/prod', cacheDir: cache });
    const snap = await source.latest();
    expect(snap.commit).toBe(c);
    expect(snap.files.map((f) => ({ path: f.path, symlink: f.symlink ?? false, text: text(f.content) }))).toEqual([
      { path: 'envs/prod/apps/api.yaml', symlink: false, text: 'name: api\n' },
      { path: 'envs/prod/apps/link.yaml', symlink: true, text: '' },
    ]);
  });

  it('keeps its cache bounded: past the pack limit it starts afresh and still serves the tip', async () => {
    const own = mkdtempSync(join(tmpdir(), 'sy-cache-'));
    const source = new GitSource({ repo: `${server.url}/desired.git`, ref: { kind: 'branch', name: 'main' }, cacheDir: own, maxPacks: 5 });
    const packCount = () => {
      const [dir] = readdirSync(own);
      return readdirSync(join(own, dir!, 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length;
    };
    for (let i = 0; i <= 6; i++) {
      repo.commit(`bump ${i}`, { 'apps/web.yaml': `name: web${i}\n` });
      await source.latest();
    }
    expect(packCount()).toBeLessThanOrEqual(5);
    expect(MAX_PACKS).toBe(50);
    const tip = repo.commit('tip', { 'apps/web.yaml': 'name: tip\n' });
    const snap = await source.latest();
    expect(snap.commit).toBe(tip);
    expect(text(snap.files.find((f) => f.path === 'apps/web.yaml')!.content)).toBe('name: tip\n');
    rmSync(own, { recursive: true, force: true });
  });

  it('fails with FetchFailed and a hint for an unreachable server and for a missing branch', async () => {
    const down = new GitSource({ repo: 'http://user:secret@127.0.0.1:9/x.git', ref: { kind: 'branch', name: 'main' }, cacheDir: cache });
    const e1 = await down.latest().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(SwitchyardError);
    expect(e1).toMatchObject({ code: 'FetchFailed', retry: 'transient' });
    expect(String(e1)).not.toContain('secret');
    const noBranch = new GitSource({ repo: `${server.url}/desired.git`, ref: { kind: 'branch', name: 'nope' }, cacheDir: cache });
    await expect(noBranch.latest()).rejects.toMatchObject({ code: 'FetchFailed', message: expect.stringMatching(/branch "nope" not found/) });
    expect(redactUrl('https://u:p@h/x')).toBe('https://***@h/x');
    // A password with an @ in it, a token in the query, and a URL quoted inside an error message.
    expect(redactUrl('https://deploy:p@ss@git.example.com/ops/desired.git')).toBe('https://***@git.example.com/ops/desired.git');
    expect(redactUrl('https://git.example.com/x.git?access_token=abc123&ref=main')).toBe('https://git.example.com/x.git?access_token=***&ref=main');
    expect(redactUrl('HTTP Error: 401 at https://u:s3cr@t@h:8080/r.git/info/refs?service=git-upload-pack')).toBe('HTTP Error: 401 at https://***@h:8080/r.git/info/refs?service=git-upload-pack');
  });

  it('cuts the password in use from an error, should a server echo it', async () => {
    const { createServer } = await import('node:http');
    const echo = createServer((req, res) => {
      const sent = Buffer.from(String(req.headers.authorization ?? '').replace('Basic ', ''), 'base64').toString();
      res.writeHead(req.headers.authorization ? 500 : 401, { 'www-authenticate': 'Basic realm="x"' }).end(`bad credentials ${sent}`);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    try {
      const source = new GitSource({ repo: `http://127.0.0.1:${(echo.address() as { port: number }).port}/x.git`, ref: { kind: 'branch', name: 'main' }, cacheDir: cache, auth: () => ({ username: 'deploy', password: 'tok-3f9a-secret' }) });
      const e = await source.latest().catch((err: unknown) => err);
      expect(e).toMatchObject({ code: 'FetchFailed' });
      expect(String(e)).toMatch(/HTTP Error: 500/);
      expect(String(e)).not.toContain('tok-3f9a-secret');
    } finally {
      echo.close();
    }
  });

  it('fails with FetchFailed instead of hanging when the server stops answering, before or during its answer', async () => {
    const { createServer } = await import('node:http');
    // One endpoint never answers; the other sends the start of its ref advertisement and then stalls.
    const silent = createServer((req, res) => {
      if (req.url?.startsWith('/stalls/')) {
        res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' });
        res.write('001e# service=git-upload-pack\n');
      }
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      for (const path of ['never', 'stalls']) {
        const source = new GitSource({ repo: `http://127.0.0.1:${port}/${path}/x.git`, ref: { kind: 'branch', name: 'main' }, cacheDir: cache, timeoutMs: 200 });
        const e = await source.latest().catch((err: unknown) => err);
        expect(e).toMatchObject({ code: 'FetchFailed', retry: 'transient', message: expect.stringMatching(/no answer for 200 ms/) });
      }
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
