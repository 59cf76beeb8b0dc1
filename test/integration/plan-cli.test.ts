// `switchyard plan` as the built CLI, on a real git repository and the real Docker engine.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appYaml } from '../support/app-yaml.js';
import { TestRepo } from '../support/git-server.js';
import { instanceName, stateDir as newStateDir, testImages } from '../support/run.js';
import { color } from '../support/specs.js';
import { FileFailedCommits } from '../../src/adapters/files/failed-commits.js';
import { FileSuspensions } from '../../src/adapters/files/suspensions.js';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';

describe('switchyard plan (CLI)', () => {
  const instance = instanceName();
  const state = newStateDir();
  let repo: TestRepo;
  let first = '';
  const plan = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['bin/switchyard.js', 'plan', '--repo', repo.work, '--instance', instance, '--state-dir', state, ...args], { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(() => {
    repo = new TestRepo();
    first = repo.commit('web: first', { 'apps/web.yaml': appYaml({ listen: 9300, blueImage: 'web:1', greenImage: 'web:2' }) });
  });
  afterAll(() => repo.remove());

  it('shows what a commit would create on an empty host, changes nothing, and exits 2', () => {
    const r = plan();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      `plan for ${first.slice(0, 12)} (${repo.work}@main):\n` +
        '  web  create: route blue on port 9300; create 1 blue target(s) (web:1); create 1 green target(s) (web:2)\n' +
        '1 app(s) would change. Nothing was changed.\n',
    );
    expect(spawnSync('docker', ['ps', '-aq', '--filter', `label=dev.switchyard.instance=${instance}`], { encoding: 'utf8' }).stdout).toBe('');
  });

  it('plans an earlier commit by --ref, in JSON', () => {
    repo.commit('web: two replicas', { 'apps/web.yaml': appYaml({ listen: 9300, blueImage: 'web:1', greenImage: 'web:2', replicas: 2 }) });
    const r = plan('--ref', first, '--format', 'json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      commit: first,
      changes: true,
      apps: [{ app: 'web', action: 'create', changes: ['route blue on port 9300', 'create 1 blue target(s) (web:1)', 'create 1 green target(s) (web:2)'] }],
      prune: [],
    });
  });

  it('refuses an invalid or dangerous commit with located errors and exits 1', () => {
    repo.commit('web: oops', { 'apps/web.yaml': appYaml({ listen: 9300 }).replace('active: blue', 'active: blue\nprivileged: true') });
    const r = plan();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^apps\/web\.yaml:24:13 privileged: privileged mode: denied by the agent's policy \(rule "allowPrivileged"\)/);
    expect(r.stderr).toMatch(/would be refused: 1 error\(s\); nothing live would change/);
  });

  it('runs the agent\'s guards: a suspended app shows as suspended, a failed commit as held, and an empty commit prunes nothing', async () => {
    const tip = repo.commit('web: back to valid', { 'apps/web.yaml': appYaml({ listen: 9300, blueImage: 'web:1', greenImage: 'web:2' }) });
    // What the agent records in its state dir when an operator suspends an app.
    await new FileSuspensions(join(state, `${instance}.suspended.json`)).save(new Set(['web']));
    let r = plan();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}web {2}suspended: nothing about it changes until `switchyard resume`$/m);

    await new FileSuspensions(join(state, `${instance}.suspended.json`)).save(new Set());
    await new FileFailedCommits(join(state, `${instance}.failed-commits.json`)).save(new Map([['web', { commit: tip }]]));
    r = plan('--format', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).apps).toEqual([{ app: 'web', action: 'held', changes: [expect.stringMatching(new RegExp(`^commit ${tip.slice(0, 12)} failed for this app and is not retried`))] }]);

    // A live target of an app the commit no longer has, and a commit with no apps at all.
    const runtime = new DockerRuntime(connectDocker(), instance);
    const { replicas: _r, envFiles: _f, ...container } = color(testImages().ok, 1);
    const orphan = await runtime.create({ ...container, app: 'orphan', color: 'blue', replica: 0, specHash: 'abcdef0123456789', commit: first, env: {}, port: 8080 });
    try {
      repo.git('rm', '-q', 'apps/web.yaml');
      repo.commit('no apps at all');
      r = plan();
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/not pruned: orphan \(the commit has no apps: the agent never prunes everything\)\nNo changes\.\n$/);
      // With an app in the commit, the same orphan would be pruned.
      repo.commit('web again', { 'apps/web.yaml': appYaml({ listen: 9300, blueImage: 'web:1', greenImage: 'web:2' }) });
      r = plan();
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(/^ {2}orphan +remove: gone from the repository; remove 1 target\(s\)$/m);
    } finally {
      await runtime.remove(orphan.id);
    }
  });
});
