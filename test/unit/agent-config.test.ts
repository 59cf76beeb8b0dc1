import { describe, expect, it } from 'vitest';
import { entrypointsOf, loadAgentConfig } from '../../src/config/agent-config.js';
import { DEFAULT_POLICY } from '../../src/policy/policy.js';

describe('agent config', () => {
  it('fills documented defaults and freezes the result', () => {
    const c = loadAgentConfig({ flags: { repo: '/srv/desired' }, env: {} });
    expect(c).toMatchObject({ repo: '/srv/desired', ref: 'main', path: '', interval: '5s', instance: 'default', listenHost: '127.0.0.1', api: '127.0.0.1:7070', router: 'embedded', runtime: 'docker', logLevel: 'info' });
    expect(c.policy).toEqual({ ...DEFAULT_POLICY });
    expect(c.proxyWorkers).toBe(1);
    expect(loadAgentConfig({ flags: {}, env: {}, file: { path: 'agent.yaml', text: 'repo: r\nproxyWorkers: 2\n' } }).proxyWorkers).toBe(2);
    expect(Object.isFrozen(c) && Object.isFrozen(c.policy) && Object.isFrozen(c.policy.envFilePaths)).toBe(true);
  });

  it('takes flags over environment variables over the file', () => {
    const file = { path: 'agent.yaml', text: 'repo: https://git.example.com/ops/desired.git\nbranch: prod\ninterval: 30s\ninstance: file\npolicy:\n  bindMountPaths: [/srv/data]\n' };
    const c = loadAgentConfig({ flags: { instance: 'flag' }, env: { SWITCHYARD_INSTANCE: 'env', SWITCHYARD_INTERVAL: '10s' }, file });
    expect(c).toMatchObject({ repo: 'https://git.example.com/ops/desired.git', ref: 'prod', interval: '10s', instance: 'flag' });
    expect(c.policy.bindMountPaths).toEqual(['/srv/data']);
    expect(c.policy.allowPrivileged).toBe(false);
  });

  it('reads the shared entrypoints from the file, env vars and flags (--http, --https), each over the one before', () => {
    const file = { path: 'agent.yaml', text: 'repo: r\nentrypoints:\n  http: 0.0.0.0:80\n  https: 0.0.0.0:443\n' };
    const c = loadAgentConfig({ flags: { https: '127.0.0.1:8443' }, env: { SWITCHYARD_HTTP: '[::1]:8080' }, file });
    expect(c.entrypoints).toEqual({ http: '[::1]:8080', https: '127.0.0.1:8443' });
    expect(entrypointsOf(c)).toEqual({ listenHost: '127.0.0.1', http: { host: '::1', port: 8080 }, https: { host: '127.0.0.1', port: 8443 } });
    expect(loadAgentConfig({ flags: { repo: 'r' }, env: {} }).entrypoints).toEqual({});
  });

  it('follows ref, or branch (its older name), or a semver range; verify and repoAuth come from the file', () => {
    expect(loadAgentConfig({ flags: { repo: 'r', ref: 'refs/tags/v1.2.0' }, env: {} }).ref).toBe('refs/tags/v1.2.0');
    expect(loadAgentConfig({ flags: { repo: 'r' }, env: { SWITCHYARD_BRANCH: 'prod' } }).ref).toBe('prod');
    expect(loadAgentConfig({ flags: { repo: 'r', ref: 'prod', branch: 'prod' }, env: {} }).ref).toBe('prod');
    const file = { path: 'agent.yaml', text: 'repo: r\nsemver: ">=1.2.0 <2"\nverify:\n  mode: tag\n  allowedSigners: /etc/switchyard/allowed_signers\nrepoAuth:\n  tokenFile: /etc/switchyard/token\n' };
    const c = loadAgentConfig({ flags: {}, env: {}, file });
    expect(c).toMatchObject({ ref: 'main', semver: '>=1.2.0 <2', verify: { mode: 'tag', allowedSigners: '/etc/switchyard/allowed_signers' }, repoAuth: { tokenFile: '/etc/switchyard/token' } });
    expect('branch' in c).toBe(false);
  });

  const bad: { name: string; sources: Parameters<typeof loadAgentConfig>[0]; message: RegExp; where: RegExp }[] = [
    { name: 'no repository', sources: { flags: {}, env: {} }, message: /repo is required/, where: /--repo \(or SWITCHYARD_REPO, or "repo" in --config\)/ },
    { name: 'a bad flag value', sources: { flags: { repo: 'r', router: 'nginx' }, env: {} }, message: /router must be equal to one of the allowed values/, where: /--router/ },
    { name: 'a runtime that is not one', sources: { flags: { repo: 'r' }, env: { SWITCHYARD_RUNTIME: 'kubernetes' } }, message: /runtime must be equal to one of the allowed values/, where: /SWITCHYARD_RUNTIME/ },
    { name: 'a bad env value', sources: { flags: { repo: 'r' }, env: { SWITCHYARD_INTERVAL: 'often' } }, message: /interval must match/, where: /SWITCHYARD_INTERVAL/ },
    { name: 'an unknown setting in the file', sources: { flags: {}, env: {}, file: { path: 'agent.yaml', text: 'repo: r\nrepos: x\n' } }, message: /unknown setting "repos"/, where: /^agent\.yaml:2:1 repos: unknown setting/ },
    { name: 'a bad policy value in the file', sources: { flags: {}, env: {}, file: { path: 'agent.yaml', text: 'repo: r\npolicy:\n  allowPrivileged: yes-please\n' } }, message: /policy\.allowPrivileged must be boolean/, where: /^agent\.yaml:3:20 policy\.allowPrivileged/ },
    { name: 'a schedule that is not cron', sources: { flags: { repo: 'r', schedule: 'every 5 minutes' }, env: {} }, message: /"every 5 minutes" is not a cron expression/, where: /--schedule/ },
    { name: 'an entrypoint flag that is no address', sources: { flags: { repo: 'r', http: '80' }, env: {} }, message: /entrypoints\.http must match/, where: /--http/ },
    { name: 'an entrypoint env var with a port out of range', sources: { flags: { repo: 'r' }, env: { SWITCHYARD_HTTPS: '127.0.0.1:70000' } }, message: /entrypoints\.https port 70000 is not between 1 and 65535/, where: /SWITCHYARD_HTTPS/ },
    { name: 'an unknown policy rule', sources: { flags: {}, env: {}, file: { path: 'agent.yaml', text: 'repo: r\npolicy:\n  allowEverything: true\n' } }, message: /unknown setting "policy\.allowEverything"/, where: /^agent\.yaml:3:3 policy\.allowEverything/ },
    { name: 'ref and branch that disagree', sources: { flags: { repo: 'r', ref: 'main', branch: 'prod' }, env: {} }, message: /ref "main" and branch "prod" disagree/, where: /--branch/ },
    { name: 'a short commit id', sources: { flags: { repo: 'r' }, env: { SWITCHYARD_REF: 'abc1234' } }, message: /looks like a short commit id/, where: /SWITCHYARD_REF/ },
    { name: 'a semver that is no range', sources: { flags: {}, env: {}, file: { path: 'agent.yaml', text: 'repo: r\nsemver: newest\n' } }, message: /semver "newest" is not a version range/, where: /^agent\.yaml:2:9 semver/ },
    { name: 'verify with no keys', sources: { flags: {}, env: {}, file: { path: 'agent.yaml', text: 'repo: r\nverify:\n  mode: head\n' } }, message: /verify lists no keys/, where: /^agent\.yaml:3:3 verify/ },
    { name: 'verify mode tag on a branch', sources: { flags: {}, env: {}, file: { path: 'agent.yaml', text: 'repo: r\nverify:\n  mode: tag\n  gpgKeys: /k\n' } }, message: /verify\.mode "tag" needs a tag to follow, and ref is main/, where: /^agent\.yaml:3:9 verify\.mode/ },
    { name: 'repoAuth with a token and a password', sources: { flags: {}, env: {}, file: { path: 'agent.yaml', text: 'repo: r\nrepoAuth:\n  tokenFile: /t\n  passwordFile: /p\n' } }, message: /repoAuth needs one of tokenFile and passwordFile/, where: /^agent\.yaml:3:3 repoAuth/ },
    { name: 'proxy workers that are no count', sources: { flags: {}, env: {}, file: { path: 'agent.yaml', text: 'repo: r\nproxyWorkers: 0\n' } }, message: /proxyWorkers must be >= 1/, where: /^agent\.yaml:2:15 proxyWorkers/ },
  ];
  it.each(bad)('refuses $name, saying where', ({ sources, message, where }) => {
    let err: unknown;
    try {
      loadAgentConfig(sources);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'UsageError', message: expect.stringMatching(message) });
    expect(String(err)).toMatch(where);
  });
});
