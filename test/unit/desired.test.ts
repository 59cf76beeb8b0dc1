import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDesired } from '../../src/desired/load.js';
import { appYaml } from '../support/app-yaml.js';
import { color } from '../support/specs.js';

const enc = (s: string) => new TextEncoder().encode(s);
const load = (files: Record<string, string | Uint8Array>) =>
  loadDesired('c1', Object.entries(files).map(([path, c]) => ({ path, content: typeof c === 'string' ? enc(c) : c })));
const valid = appYaml({ listen: 9000 });

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

  it('ignores files outside apps/ and non-YAML files', () => {
    const r = load({ 'README.md': '# hi', 'apps/notes.txt': 'x', 'other/x.yaml': 'garbage: [' });
    expect(r).toEqual({ ok: true, state: { commit: 'c1', apps: [] } });
  });

  // Each bad input must give its own error, located at file:line and field.
  const cases: { name: string; text: string | Uint8Array; line: number; field?: string; message: RegExp; hint?: RegExp }[] = [
    { name: 'YAML syntax', text: 'name: web\ncolors: [\n', line: 3, message: /^YAML: / },
    { name: 'duplicate key', text: 'name: web\nname: web2\n', line: 2, message: /unique/i },
    { name: 'unknown field with a suggestion', text: valid.replace('drainTimeout:', 'drainTimout:'), line: 5, field: 'drainTimout', message: /unknown field "drainTimout"/, hint: /did you mean "drainTimeout"/ },
    { name: 'unknown nested field', text: valid.replace('  path: /healthz', '  pth: /healthz'), line: 7, field: 'health.pth', message: /unknown field "pth"/, hint: /did you mean "path"/ },
    { name: 'bad enum', text: valid.replace('active: blue', 'active: purple'), line: 23, field: 'active', message: /must be one of "blue", "green"/ },
    { name: 'negative replicas', text: valid.replace('replicas: 1', 'replicas: -1'), line: 15, field: 'colors.blue.replicas', message: />= 0/ },
    { name: 'bad duration', text: valid.replace('interval: 100ms', 'interval: 100'), line: 8, field: 'health.interval', message: /100 must be string/, hint: /500ms/ },
    { name: 'bad duration unit', text: valid.replace('interval: 100ms', 'interval: 100x'), line: 8, field: 'health.interval', message: /"100x" is not valid/, hint: /500ms/ },
    { name: 'missing field', text: valid.replace('port: 8080\n', ''), line: 1, field: 'port', message: /missing required field "port"/ },
    { name: 'bad name', text: valid.replace('name: web', 'name: Web_App'), line: 2, field: 'name', message: /"Web_App" is not valid/, hint: /DNS label/ },
    { name: 'port out of range', text: valid.replace('listen: 9000', 'listen: 70000'), line: 3, field: 'listen', message: /<= 65535/ },
    { name: 'active color with no replicas', text: valid.replace('replicas: 1', 'replicas: 0'), line: 15, field: 'colors.blue.replicas', message: /active color "blue" has 0 replicas/ },
    { name: 'not UTF-8', text: new Uint8Array([0x6e, 0x61, 0xff, 0xfe]), line: 1, message: /not valid UTF-8/ },
    { name: 'alias bomb', text: 'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n', line: 1, message: /alias/i },
    { name: 'too large', text: `# ${'x'.repeat(300 * 1024)}\n`, line: 1, message: /more than the limit/ },
  ];
  it.each(cases)('refuses $name with a located error', ({ text, line, field, message, hint }) => {
    const r = load({ 'apps/web.yaml': text });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const [first] = r.errors;
    expect(first!.code).toBe('ValidationFailed');
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
      expect.stringMatching(/^apps\/web\.yaml:\d+:\d+ colors\.green: no image for green \(hint: set image at the top of the file or in colors\.green\)/),
      expect.stringMatching(/volumes\[0\]: a volume has exactly one of "name" or "hostPath"/),
    ]);
  });

  it('refuses the reserved label prefix', () => {
    const r = load({ 'apps/web.yaml': valid.replace('active: blue', 'labels: { dev.switchyard.app: other }\nactive: blue') });
    expect(!r.ok && r.errors[0]!.location?.field).toBe('labels');
  });
});
