import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDesired, MAX_APP_FILES } from '../../src/desired/load.js';
import { color } from '../support/specs.js';
import { BAD_INPUTS, VALID_APP as valid } from '../support/bad-inputs.js';

const enc = (s: string) => new TextEncoder().encode(s);
const load = (files: Record<string, string | Uint8Array>) =>
  loadDesired('c1', Object.entries(files).map(([path, c]) => ({ path, content: typeof c === 'string' ? enc(c) : c })));

describe('desired: loading app files', () => {
  it('accepts the example repository and applies defaults', () => {
    const r = load({ 'apps/hello.yaml': readFileSync('example-repo/apps/hello.yaml', 'utf8') });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [hello] = r.state.apps;
    expect(hello).toMatchObject({ name: 'hello', listen: 8080, active: 'blue', drainTimeoutMs: 30_000 });
    expect(hello!.health).toEqual({ path: '/healthz', intervalMs: 500, timeoutMs: 2000, healthyThreshold: 3, unhealthyThreshold: 3, startTimeoutMs: 30_000, tcp: false });
    expect(hello!.colors.green).toEqual(color('switchyard-example/hello:1.1', 2, { env: { GREETING: 'hi' } }));
  });

  it('fills defaults for everything optional', () => {
    const r = load({ 'apps/a.yml': 'name: a\nlisten: 1\nport: 2\ncolors:\n  blue: {image: x}\n  green: {image: y}\nactive: green\n' });
    expect(r.ok && r.state.apps[0]).toMatchObject({ drainTimeoutMs: 30_000, health: { path: '/', healthyThreshold: 3 }, colors: { blue: { replicas: 1, env: {} } } });
  });

  it('refuses a commit with more app files or bytes under apps/ than the limits, before parsing any', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_APP_FILES + 1 }, (_, i) => [`apps/a${i}.yaml`, 'name: [']));
    const r = load(many);
    expect(!r.ok && r.errors.map((e) => e.toString())).toEqual([expect.stringMatching(new RegExp(`^apps/: ${MAX_APP_FILES + 1} app files, \\d+ bytes: more than the limit of ${MAX_APP_FILES} files`))]);
    const big = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`apps/b${i}.yaml`, `# ${'x'.repeat(240 * 1024)}\n`]));
    expect(!load(big).ok && (load(big) as { errors: Error[] }).errors[0]!.message).toMatch(/more than the limit of .* and 8388608 bytes/);
  });

  it('reports at most 50 errors of a file with thousands, and says how many more there are', () => {
    const text = `name: web\n${Array.from({ length: 2000 }, (_, i) => `k${i}: ${i}`).join('\n')}\n`;
    const r = load({ 'apps/web.yaml': text });
    expect(!r.ok && r.errors).toHaveLength(51);
    expect(!r.ok && r.errors.at(-1)!.message).toMatch(/^\d+ more error\(s\) in this file$/);
  });

  it('ignores files outside apps/ and non-YAML files', () => {
    const r = load({ 'README.md': '# hi', 'apps/notes.txt': 'x', 'other/x.yaml': 'garbage: [' });
    expect(r).toEqual({ ok: true, state: { commit: 'c1', apps: [] } });
  });

  it.each(BAD_INPUTS)('refuses $name with a located error', ({ text, line, field, message, hint, code }) => {
    const r = load({ 'apps/web.yaml': text });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const [first] = r.errors;
    expect(first!.code).toBe(code ?? 'ValidationFailed');
    expect(first!.location).toMatchObject({ file: 'apps/web.yaml', line, ...(field ? { field } : {}) });
    expect(first!.message).toMatch(message);
    if (hint) expect(first!.hint).toMatch(hint);
  });

  it('refuses a symbolic link instead of following it', () => {
    const r = loadDesired('c1', [{ path: 'apps/web.yaml', content: new Uint8Array(), symlink: true }]);
    expect(!r.ok && r.errors[0]!.message).toMatch(/symbolic link/);
  });

  it('refuses the whole commit when two apps share a name or a listen port', () => {
    const r = load({ 'apps/a.yaml': valid, 'apps/b.yaml': valid });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.toString())).toEqual([
      expect.stringMatching(/^apps\/b\.yaml:2:7 name: app name "web" is already used by apps\/a\.yaml/),
      expect.stringMatching(/^apps\/b\.yaml:3:9 listen: listen port 9000 is already used by app "web"/),
    ]);
  });

  it('reports every error of a file, in line order', () => {
    const r = load({ 'apps/web.yaml': valid.replace('listen: 9000', 'listen: 0').replace('active: blue', 'active: red') });
    expect(!r.ok && r.errors.map((e) => e.location?.field)).toEqual(['listen', 'active']);
  });

  it('merges each color over the shared fields: env and labels key by key, the rest replaced', () => {
    const r = load({ 'apps/web.yaml': `name: web
listen: 9000
port: 8080
image: web:1
command: [/bin/web]
args: [--port, "8080"]
resources: { memory: 256m, cpus: 0.5 }
env: { A: "1", B: shared, SECRET: { file: /etc/switchyard/secrets/web } }
labels: { team: web }
volumes:
  - { name: data, path: /data }
health: { tcp: true, unhealthyThreshold: 2, expectStatus: 204 }
colors:
  blue:
    env: { B: blue }
  green:
    image: web:2
    args: [--port, "8080", --fast]
    env: { SECRET: plain }
    labels: { tier: canary }
active: blue
` });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { blue, green } = r.state.apps[0]!.colors;
    expect(blue).toMatchObject({
      image: 'web:1', command: ['/bin/web'], args: ['--port', '8080'], env: { A: '1', B: 'blue' },
      envFiles: { SECRET: { file: '/etc/switchyard/secrets/web', field: 'env.SECRET' } },
      resources: { memoryBytes: 256 * 1024 * 1024, cpus: 0.5 }, labels: { team: 'web' }, volumes: [{ name: 'data', path: '/data', readOnly: false }],
    });
    expect(green).toMatchObject({ image: 'web:2', args: ['--port', '8080', '--fast'], env: { A: '1', B: 'shared', SECRET: 'plain' }, envFiles: {}, labels: { team: 'web', tier: 'canary' } });
    expect(r.state.apps[0]!.health).toMatchObject({ tcp: true, unhealthyThreshold: 2, expectStatus: 204 });
  });

  it('refuses a running color without an image, and a volume that is neither named nor a host path', () => {
    const r = load({ 'apps/web.yaml': valid.replace('    image: img:green\n', '').replace('      GREETING: hi\n', '      GREETING: hi\n    volumes:\n      - { path: /data }\n') });
    expect(!r.ok && r.errors.map((e) => e.toString())).toEqual([
      expect.stringMatching(/^apps\/web\.yaml:\d+:\d+ colors\.green: no image for green \(hint: set image \(or build\) at the top of the file or in colors\.green\)/),
      expect.stringMatching(/volumes\[0\]: a volume has exactly one of "name" or "hostPath"/),
    ]);
  });

  it('refuses the reserved label prefix', () => {
    const r = load({ 'apps/web.yaml': valid.replace('active: blue', 'labels: { dev.switchyard.app: other }\nactive: blue') });
    expect(!r.ok && r.errors[0]!.location?.field).toBe('labels');
  });
});
