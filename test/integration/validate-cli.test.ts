// `switchyard validate` as PR CI runs it: the built CLI on fixture repositories, output compared with
// golden files (UPDATE_GOLDEN=1 rewrites them after a deliberate change).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function validate(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/switchyard.js', 'validate', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Compares with the golden file. UPDATE_GOLDEN=1 rewrites it and fails the test (a rewrite compared with
 * itself proves nothing: run again without it); under CI it is refused.
 */
function golden(name: string, actual: string): void {
  const path = `test/golden/${name}`;
  if (process.env.UPDATE_GOLDEN) {
    if (process.env.CI) throw new Error('UPDATE_GOLDEN is refused under CI: golden files are updated on purpose, by a person');
    writeFileSync(path, actual);
    throw new Error(`${path} rewritten (UPDATE_GOLDEN): review the diff, then run the tests again without UPDATE_GOLDEN`);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('switchyard validate (CLI)', () => {
  it('passes the example repository', () => {
    expect(validate('example-repo')).toEqual({ code: 0, stdout: 'ok: 2 app(s) valid (hello, shop)\n', stderr: '' });
  });

  it.each(['text', 'json', 'github'])('reports every problem of a bad pull request, located (%s)', (format) => {
    const r = validate('test/fixtures/repos/bad', '--format', format);
    expect(r.code).toBe(1);
    golden(`validate.${format}`, r.stdout);
  });

  it('applies the host policy from an agent config', () => {
    const r = validate('test/fixtures/repos/bad', '--config', 'test/fixtures/agent-allow-privileged.yaml');
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('privileged mode');
    expect(r.stdout).toContain('Docker socket');
  });

  it('checks build contexts in the work tree: there, with their Dockerfile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-validate-'));
    try {
      mkdirSync(join(dir, 'apps'));
      writeFileSync(join(dir, 'apps/web.yaml'), 'name: web\nlisten: 9000\nport: 8080\nbuild: { context: images/web }\ncolors: { blue: {}, green: {} }\nactive: blue\n');
      expect(validate(dir)).toMatchObject({ code: 1, stdout: expect.stringMatching(/apps\/web\.yaml:4:\d+ build\.context: build context "images\/web" is not in this commit/) });
      mkdirSync(join(dir, 'images/web'), { recursive: true });
      writeFileSync(join(dir, 'images/web/Dockerfile'), 'FROM scratch\n');
      expect(validate(dir)).toMatchObject({ code: 0, stdout: 'ok: 1 app(s) valid (web)\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is wrong with its own arguments', () => {
    expect(validate('--format', 'xml')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--format "xml" is not a format \(hint: one of text, json, github\)/) });
    expect(validate('nowhere')).toMatchObject({ code: 2, stderr: expect.stringMatching(/no apps\/ folder in nowhere/) });
  });
});
