// `switchyard promote` as the built CLI, in a real git checkout.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestRepo } from '../support/git-server.js';

const APP = `# yaml-language-server: $schema=../schemas/app.schema.json
# Traffic goes to the active color. Reviewed by the web team.
name: web
listen: 9400
port: 8080
colors:
  blue:   { image: "web:1", replicas: 2 }   # current
  green:  { image: "web:2", replicas: 2 }   # candidate
  # note: keep blue warm for rollback
active: blue    # flip me
`;

describe('switchyard promote (CLI)', () => {
  let repo: TestRepo;
  const promote = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/switchyard.js'), 'promote', ...args], { cwd: repo.work, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'x' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(() => {
    repo = new TestRepo();
    repo.git('config', 'user.name', 'Dana Reviewer');
    repo.git('config', 'user.email', 'dana@example.com');
    repo.commit('web: blue', { 'apps/web.yaml': APP, 'apps/retired.yaml': APP.replace('name: web', 'name: retired').replace('listen: 9400', 'listen: 9401').replace('green:  { image: "web:2", replicas: 2 }', 'green:  { image: "web:2", replicas: 0 }') });
  });
  afterAll(() => repo.remove());

  it('commits a flip on a new branch, changing nothing but the active value', () => {
    const r = promote('web', '--branch', 'promote/web-green');
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/^web: blue -> green, committed [0-9a-f]{12} on branch promote\/web-green\nPush it and open a pull request:\n {2}git push -u origin promote\/web-green\n$/) });
    expect(repo.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('promote/web-green');
    expect(repo.git('log', '-1', '--format=%an <%ae>%n%s')).toBe('Dana Reviewer <dana@example.com>\nweb: promote green (was blue)');
    expect(readFileSync(join(repo.work, 'apps/web.yaml'), 'utf8')).toBe(APP.replace('active: blue    # flip me', 'active: green    # flip me'));
    expect(repo.git('diff', '--numstat', 'main', 'HEAD')).toBe('1\t1\tapps/web.yaml');
    expect(repo.git('show', 'main:apps/web.yaml') + '\n').toBe(APP);
  });

  it('does nothing when the app already has that color', () => {
    expect(promote('web', '--to', 'green')).toMatchObject({ code: 0, stdout: 'web is already green in apps/web.yaml: nothing to do\n' });
  });

  it('refuses to promote a retired color, and unknown apps, saying why', () => {
    const retired = promote('retired');
    expect(retired.code).toBe(1);
    expect(retired.stderr).toMatch(/apps\/retired\.yaml:\d+:\d+ colors\.green\.replicas: the active color "green" has 0 replicas/);
    expect(promote('nope')).toMatchObject({ code: 2, stderr: expect.stringMatching(/no app "nope" .*apps there: retired, web/) });
  });

  it('edits only, with --no-commit, and refuses to commit over local changes', () => {
    expect(promote('web', '--to', 'blue', '--no-commit')).toMatchObject({ code: 0, stdout: 'apps/web.yaml: active green -> blue (line 10); not committed\n' });
    expect(repo.git('status', '--porcelain')).toBe('M apps/web.yaml');
    const head = repo.git('rev-parse', 'HEAD');
    expect(promote('web', '--to', 'green')).toMatchObject({ code: 2, stderr: expect.stringMatching(/apps\/web\.yaml has changes that are not committed \(hint: commit or stash them first/) });
    expect(repo.git('rev-parse', 'HEAD')).toBe(head);
  });
});
