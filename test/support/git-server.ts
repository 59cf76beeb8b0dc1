// A real git smart-HTTP server for tests: `git http-backend` behind a small Node CGI wrapper, on
// 127.0.0.1 only. Plus helpers that make bare repositories and push real commits with the git CLI.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SigningKey } from './signing.js';

export interface GitServer {
  /** Base URL; a repository `name.git` under the root is at `${url}/name.git`. */
  url: string;
  /** Every request as "METHOD /path?query", for counting round trips. */
  requests: string[];
  close(): Promise<void>;
}

/** `auth`: the server answers 401 (Basic) to any request without these credentials, as a forge does. */
export async function startGitServer(projectRoot: string, auth?: { username: string; password: string }): Promise<GitServer> {
  const requests: string[] = [];
  const expected = auth && `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (expected && req.headers.authorization !== expected) {
      requests.push(`${req.method} ${url.pathname}${url.search} 401`);
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      return;
    }
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else res.setHeader(k, v);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    child.stdout.on('end', () => res.end());
    child.on('error', () => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const GIT_ENV = { GIT_AUTHOR_NAME: 'Test Author', GIT_AUTHOR_EMAIL: 'author@example.com', GIT_COMMITTER_NAME: 'Test Author', GIT_COMMITTER_EMAIL: 'author@example.com' };

/** A bare repository `name.git` under a new root, and a work clone to commit and push from. */
export class TestRepo {
  readonly root = mkdtempSync(join(tmpdir(), 'sy-git-'));
  readonly bare: string;
  readonly work: string;

  constructor(readonly name = 'desired') {
    this.bare = join(this.root, `${name}.git`);
    this.work = join(this.root, 'work');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', this.bare]);
    execFileSync('git', ['init', '-q', '-b', 'main', this.work]);
    this.git('remote', 'add', 'origin', this.bare);
  }

  git(...args: string[]): string {
    return this.gitAs(undefined, ...args);
  }

  /** git with a signing key's settings (`-c gpg.format=…`) and environment (GNUPGHOME). */
  gitAs(key: SigningKey | undefined, ...args: string[]): string {
    return execFileSync('git', [...(key?.gitConfig ?? []), ...args], { cwd: this.work, encoding: 'utf8', env: { ...process.env, ...GIT_ENV, ...key?.env } }).trim();
  }

  /** Like commit(), signed by `key` (git commit -S). */
  commitSigned(key: SigningKey, message: string, files: Record<string, string> = {}): string {
    for (const [path, text] of Object.entries(files)) this.write(path, text);
    this.git('add', '-A');
    this.gitAs(key, 'commit', '-q', '--allow-empty', '-S', '-m', message);
    return this.push();
  }

  /**
   * Tags `target` (default HEAD) and pushes the tag, moving it when it exists: annotated (`git tag -a`),
   * signed by `key` (`git tag -s`), or lightweight. Returns the commit it points at.
   */
  tag(name: string, opts: { key?: SigningKey; target?: string; lightweight?: boolean } = {}): string {
    const kind = opts.lightweight ? [] : opts.key ? ['-s', '-m', `release ${name}`] : ['-a', '-m', `release ${name}`];
    this.gitAs(opts.key, 'tag', '-f', ...kind, name, opts.target ?? 'HEAD');
    this.git('push', '-q', '-f', 'origin', `refs/tags/${name}`);
    return this.git('rev-parse', `${name}^{commit}`);
  }

  write(path: string, text: string): void {
    mkdirSync(dirname(join(this.work, path)), { recursive: true });
    writeFileSync(join(this.work, path), text);
  }

  /** Writes the files, commits them and pushes; returns the new commit id. */
  commit(message: string, files: Record<string, string> = {}): string {
    for (const [path, text] of Object.entries(files)) this.write(path, text);
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.push();
  }

  push(): string {
    this.git('push', '-q', 'origin', 'HEAD:main');
    return this.git('rev-parse', 'HEAD');
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
