import { describe, expect, it } from 'vitest';
import { loadDesired } from '../../src/desired/load.js';
import { isUnder } from '../../src/core/host-path.js';
import { DEFAULT_POLICY, type Policy } from '../../src/policy/policy.js';

const enc = (s: string) => new TextEncoder().encode(s);
const base = `name: web
listen: 9000
port: 8080
image: img:1
colors:
  blue: {}
  green:
    replicas: 1
active: blue
`;
// Each dangerous setting, written where a PR author would write it, and the rule that must refuse it.
const load = (extra: string, policy: Policy = DEFAULT_POLICY, colorExtra = '') =>
  loadDesired('c1', [{ path: 'apps/web.yaml', content: enc(base.replace('image: img:1\n', `image: img:1\n${extra}`).replace('    replicas: 1\n', `    replicas: 1\n${colorExtra}`)) }], policy);

describe('host-safety policy', () => {
  const cases: { name: string; extra: string; line: number; field: string; rule: string }[] = [
    { name: 'privileged mode', extra: 'privileged: true\n', line: 5, field: 'privileged', rule: 'allowPrivileged' },
    { name: 'the host network', extra: 'network: host\n', line: 5, field: 'network', rule: 'allowHostNetwork' },
    { name: 'the host PID namespace', extra: 'pid: host\n', line: 5, field: 'pid', rule: 'allowHostPid' },
    { name: 'an added capability', extra: 'capAdd: [NET_ADMIN]\n', line: 5, field: 'capAdd[0]', rule: 'allowCapAdd' },
    { name: 'a host device', extra: 'devices: [/dev/fuse]\n', line: 5, field: 'devices', rule: 'allowDevices' },
    { name: 'the Docker socket', extra: 'volumes:\n  - { hostPath: /var/run/docker.sock, path: /sock }\n', line: 6, field: 'volumes[0].hostPath', rule: 'allowDockerSocket' },
    { name: 'the Docker socket by another path', extra: 'volumes:\n  - { hostPath: /run/../var/run/docker.sock, path: /sock }\n', line: 6, field: 'volumes[0].hostPath', rule: 'allowDockerSocket' },
    { name: 'the folder of the Docker socket', extra: 'volumes:\n  - { hostPath: /var/run, path: /x }\n', line: 6, field: 'volumes[0].hostPath', rule: 'allowDockerSocket' },
    { name: 'a bind mount of /, which holds the Docker socket', extra: 'volumes:\n  - { hostPath: /, path: /host }\n', line: 6, field: 'volumes[0].hostPath', rule: 'allowDockerSocket' },
    { name: 'a bind mount outside the allowed folders', extra: 'volumes:\n  - { hostPath: /etc, path: /host-etc }\n', line: 6, field: 'volumes[0].hostPath', rule: 'bindMountPaths' },
    { name: 'an env value from a file outside the allowed folders', extra: 'env:\n  KEY: { file: /etc/shadow }\n', line: 6, field: 'env.KEY.file', rule: 'envFilePaths' },
    { name: 'an escape from the allowed env folder', extra: 'env:\n  KEY: { file: /etc/switchyard/secrets/../../shadow }\n', line: 6, field: 'env.KEY.file', rule: 'envFilePaths' },
    { name: 'the folder of the Docker socket with a trailing slash', extra: 'volumes:\n  - { hostPath: /run/, path: /x }\n', line: 6, field: 'volumes[0].hostPath', rule: 'allowDockerSocket' },
    { name: 'the folder of the containerd socket', extra: 'volumes:\n  - { hostPath: /run/containerd, path: /x }\n', line: 6, field: 'volumes[0].hostPath', rule: 'allowDockerSocket' },
  ];
  it.each(cases)('refuses $name, naming the rule and the place', ({ extra, line, field, rule }) => {
    const r = load(extra);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    const [e] = r.errors;
    expect(e!.code).toBe('PolicyDenied');
    expect(e!.message).toContain(`(rule "${rule}")`);
    expect(e!.location).toMatchObject({ file: 'apps/web.yaml', line, field });
    expect(e!.hint).toBeTruthy();
  });

  it('refuses a setting written in one color only once, at that color', () => {
    const r = load('', DEFAULT_POLICY, '    privileged: true\n');
    expect(!r.ok && r.errors.map((e) => e.toString())).toEqual([expect.stringMatching(/^apps\/web\.yaml:9:17 colors\.green\.privileged: privileged mode: denied .*allowPrivileged/)]);
  });

  it('allows what the operator allowed, and nothing more', () => {
    const policy: Policy = { ...DEFAULT_POLICY, allowPrivileged: true, allowCapAdd: ['NET_ADMIN'], bindMountPaths: ['/srv/data'] };
    expect(load('privileged: true\ncapAdd: [NET_ADMIN]\nvolumes:\n  - { hostPath: /srv/data/web, path: /data }\n', policy).ok).toBe(true);
    expect(load('capAdd: [SYS_ADMIN]\n', policy).ok).toBe(false);
    expect(load('volumes:\n  - { hostPath: /srv/database, path: /data }\n', policy).ok).toBe(false);
    expect(load('volumes:\n  - { hostPath: /var/run/docker.sock, path: /s }\n', { ...policy, bindMountPaths: ['/var/run'] }).ok).toBe(false);
  });

  it("never mounts the host's system folders or the engine's socket, even inside bindMountPaths, however the path is written", () => {
    const everything: Policy = { ...DEFAULT_POLICY, bindMountPaths: ['/'] };
    const mount = (hostPath: string, policy = everything) => load(`volumes:\n  - { hostPath: '${hostPath}', path: /x }\n`, policy);
    const rule = (r: ReturnType<typeof load>) => (r.ok ? 'allowed' : /rule "(\w+)"/.exec(r.errors[0]!.message)![1]);
    expect(rule(mount('/proc'))).toBe('hostSystemPaths');
    expect(rule(mount('/sys/fs/cgroup'))).toBe('hostSystemPaths');
    expect(rule(mount('/var/lib/docker/volumes/x/_data'))).toBe('hostSystemPaths');
    expect(rule(mount('/var/lib/'))).toBe('hostSystemPaths');
    expect(rule(mount('/var//run/'))).toBe('allowDockerSocket');
    expect(rule(mount('/run/docker.sock/'))).toBe('allowDockerSocket');
    expect(rule(mount('/srv/data'))).toBe('allowed');
    // Allowing the socket allows the socket, not the system folders that / also holds.
    expect(rule(mount('/', { ...everything, allowDockerSocket: true }))).toBe('hostSystemPaths');
    expect(rule(mount('/var/run/docker.sock', { ...everything, allowDockerSocket: true }))).toBe('allowed');
  });

  it('judges a host path by where its links lead, when it is given the host', () => {
    const policy: Policy = { ...DEFAULT_POLICY, bindMountPaths: ['/srv/data'] };
    const links: Record<string, string> = { '/srv/data/sock': '/run/docker.sock', '/srv/data/etc': '/etc', '/srv/data/ok': '/srv/data/real' };
    const host = { realpath: (p: string) => links[p] ?? p };
    const mount = (hostPath: string) => {
      const r = loadDesired('c1', [{ path: 'apps/web.yaml', content: enc(base.replace('image: img:1\n', `image: img:1\nvolumes:\n  - { hostPath: ${hostPath}, path: /x }\n`)) }], policy, host);
      return r.ok ? 'allowed' : r.errors[0]!.toString();
    };
    expect(mount('/srv/data/sock')).toMatch(/volumes\[0\]\.hostPath: mounting the Docker socket \(\/srv\/data\/sock, a link to \/run\/docker\.sock\): denied .*"allowDockerSocket"/);
    expect(mount('/srv/data/etc')).toMatch(/host path \/srv\/data\/etc, a link to \/etc: denied .*"bindMountPaths"/);
    expect(mount('/srv/data/ok')).toBe('allowed');
  });

  it('refuses more replicas than the data plane can route (HAProxy\'s slots), at the replicas field', () => {
    const text = base.replace('    replicas: 1\n', '    replicas: 17\n');
    const r = loadDesired('c1', [{ path: 'apps/web.yaml', content: enc(text) }], DEFAULT_POLICY, { realpath: (p) => p, maxTargetsPerColor: 16 });
    expect(!r.ok && r.errors.map((e) => e.toString())).toEqual([expect.stringMatching(/^apps\/web\.yaml:8:15 colors\.green\.replicas: 17 replicas, more than the 16 targets per color this host's data plane can route/)]);
    expect(loadDesired('c1', [{ path: 'apps/web.yaml', content: enc(text) }]).ok).toBe(true);
  });

  it('refuses a rule value that could break a data plane\'s configuration (a newline, a quote, $), at its line', () => {
    const rule = (value: string) => loadDesired('c1', [{ path: 'apps/web.yaml', content: enc(`${base}rules:\n  - { header: X-Beta, value: ${JSON.stringify(value)}, color: green }\n`) }]);
    for (const bad of ['1\nbackend evil', 'a"b', 'x$HOME', 'back\\slash']) {
      const r = rule(bad);
      expect(!r.ok && r.errors[0]!.toString(), bad).toMatch(/^apps\/web\.yaml:11:\d+ rules\[0\]\.value: .* is not valid \(hint: The exact value to match: printable text/);
    }
    expect(rule('beta user 1').ok).toBe(true);
  });

  it('refuses an image outside the allow-list when there is one', () => {
    const policy: Policy = { ...DEFAULT_POLICY, images: ['registry.example.com/'] };
    const r = load('', policy);
    expect(!r.ok && r.errors[0]!.message).toMatch(/image img:1: denied .*rule "images"/);
    expect(loadDesired('c', [{ path: 'apps/web.yaml', content: enc(base.replace('img:1', 'registry.example.com/web:1')) }], policy).ok).toBe(true);
  });

  it('does not judge a retired color', () => {
    const retired = base.replace('    replicas: 1\n', '    replicas: 0\n    privileged: true\n');
    expect(loadDesired('c', [{ path: 'apps/web.yaml', content: enc(retired) }]).ok).toBe(true);
  });

  it('compares paths after normalizing them', () => {
    expect(isUnder('/srv/data/x', '/srv/data')).toBe(true);
    expect(isUnder('/srv/data', '/srv/data/')).toBe(true);
    expect(isUnder('/srv/database', '/srv/data')).toBe(false);
    expect(isUnder('/srv/data/../etc', '/srv/data')).toBe(false);
  });
});
