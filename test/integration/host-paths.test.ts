// Host paths judged by what they really are, on this machine's file system: a symbolic link inside an
// allowed folder that leads to the Docker socket is refused by `validate --config`, a link planted after
// validation is refused right before the container is created (real engine), and env files are read only
// when they are regular files in the allowed folders (a FIFO does not hang the reader).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { realHost } from '../../src/adapters/files/host-view.js';
import { FileSecretReader } from '../../src/adapters/files/secrets.js';
import type { TargetSpec } from '../../src/core/target.js';
import { DEFAULT_POLICY, mountProblem, type Policy } from '../../src/policy/policy.js';
import { appYaml } from '../support/app-yaml.js';
import { instanceName, testImages } from '../support/run.js';
import { color } from '../support/specs.js';

describe('host paths on the real host', () => {
  const root = mkdtempSync(join(tmpdir(), 'sy-host-'));
  const allowed = join(root, 'data');
  mkdirSync(allowed);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('validate --config refuses a link inside an allowed folder that leads to the Docker socket, at its line', () => {
    symlinkSync('/run/docker.sock', join(allowed, 'sock'));
    const repo = join(root, 'repo');
    mkdirSync(join(repo, 'apps'), { recursive: true });
    writeFileSync(join(repo, 'apps/web.yaml'), `${appYaml({ listen: 9000 })}volumes:\n  - { hostPath: ${allowed}/sock, path: /x }\n`);
    const config = join(root, 'agent.yaml');
    writeFileSync(config, `policy:\n  bindMountPaths: [${allowed}]\n`);
    const r = spawnSync(process.execPath, ['bin/switchyard.js', 'validate', repo, '--config', config], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`apps/web\\.yaml:\\d+:\\d+ volumes\\[0\\]\\.hostPath: mounting the Docker socket \\(${allowed}/sock, a link to /run/docker\\.sock\\): denied by the agent's policy \\(rule "allowDockerSocket"\\)`));
  });

  it('refuses, right before creating the container, a link planted in an allowed folder after validation', async () => {
    const policy: Policy = { ...DEFAULT_POLICY, bindMountPaths: [allowed] };
    const instance = instanceName();
    const runtime = new DockerRuntime(connectDocker(), instance, {
      beforeCreate: (s) => {
        const denied = mountProblem(s, policy, realHost);
        if (denied) throw denied;
      },
    });
    const { replicas: _r, envFiles: _f, ...container } = color(testImages().ok, 1);
    const spec: TargetSpec = { ...container, app: 'web', color: 'blue', replica: 0, specHash: 'abcdef0123456789', commit: 'c0ffee', env: {}, port: 8080, volumes: [{ hostPath: join(allowed, 'site'), path: '/site', readOnly: true }] };
    mkdirSync(join(allowed, 'site'));
    const ok = await runtime.create(spec);
    await runtime.remove(ok.id);
    // Someone with write access to the folder swaps it for a link to the folder of the socket.
    rmSync(join(allowed, 'site'), { recursive: true });
    symlinkSync('/run', join(allowed, 'site'));
    await expect(runtime.create({ ...spec, replica: 1 })).rejects.toMatchObject({ code: 'PolicyDenied', message: expect.stringMatching(/web\/blue: host path .*site, a link to \/run may not be mounted: denied by the agent.s policy \(rule "allowDockerSocket"\)/) });
    expect(await runtime.list()).toEqual([]);
  });

  it('reads env files only when they are regular files in the allowed folders, and never waits on a FIFO', async () => {
    const secrets = join(root, 'secrets');
    mkdirSync(secrets);
    writeFileSync(join(secrets, 'db'), 's3cret\n');
    symlinkSync('/etc/hostname', join(secrets, 'escape'));
    execFileSync('mkfifo', [join(secrets, 'pipe')]);
    const reader = new FileSecretReader([secrets]);
    expect(await reader.read(join(secrets, 'db'))).toBe('s3cret\n');
    await expect(reader.read(join(secrets, 'escape'))).rejects.toThrow(/resolves to \/etc\/hostname, outside the allowed folders/);
    await expect(reader.read(join(secrets, 'pipe'))).rejects.toThrow(/is not a regular file/);
  });
});
