// `switchyard plan --ref` on a remote that wants credentials (smart HTTP, 401 + Basic): a tag, a commit
// that is no branch tip, refs/pull/N/head, with the agent's credentials from its config (a token file)
// and its `verify` settings, as the built CLI. `validate --config` gives the agent's signature verdict too.
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appYaml } from '../support/app-yaml.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { instanceName, stateDir as newStateDir } from '../support/run.js';
import { makeSshKey, type SshKey } from '../support/signing.js';

const TOKEN = 'glpat-s3cr3t-deploy-token';

describe('switchyard plan --ref on a remote with credentials and verify (CLI)', () => {
  const instance = instanceName();
  const state = newStateDir();
  let repo: TestRepo;
  let server: GitServer;
  let alice: SshKey;
  let config: string;
  let noVerify: string;
  const c: Record<string, string> = {};
  // Not spawnSync: the git server answers from this process's event loop.
  const run = (verb: string, args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string; all: string }>((done) => {
      const child = spawn(process.execPath, ['bin/switchyard.js', verb, ...args], { env: { ...process.env, SWITCHYARD_GIT_PASSWORD: '', ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => done({ code, stdout, stderr, all: stdout + stderr }));
    });
  const plan = (file: string, ...args: string[]) => run('plan', ['--config', file, '--instance', instance, '--state-dir', state, ...args]);

  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root, { username: 'deploy', password: TOKEN });
    alice = makeSshKey(join(repo.root, 'keys'), 'alice');
    const allowed = join(repo.root, 'keys', 'allowed_signers');
    writeFileSync(allowed, `${alice.allowedSignersLine('alice@example.com')}\n`);
    const token = join(repo.root, 'keys', 'token');
    writeFileSync(token, `${TOKEN}\n`);
    chmodSync(token, 0o600);
    const base = `repo: ${server.url}/desired.git\nrepoAuth:\n  username: deploy\n  tokenFile: ${token}\n`;
    config = join(repo.root, 'agent.yaml');
    writeFileSync(config, `${base}verify:\n  mode: head\n  allowedSigners: ${allowed}\n`);
    noVerify = join(repo.root, 'agent-no-verify.yaml');
    writeFileSync(noVerify, base);
    c.v1 = repo.commitSigned(alice, 'web 1', { 'apps/web.yaml': appYaml({ listen: 9310, blueImage: 'web:1', greenImage: 'web:2' }) });
    repo.tag('v1.0.0', { key: alice });
    c.v2 = repo.commitSigned(alice, 'web 2 replicas', { 'apps/web.yaml': appYaml({ listen: 9310, blueImage: 'web:1', greenImage: 'web:2', replicas: 2 }) });
    c.tip = repo.commitSigned(alice, 'web 3 replicas', { 'apps/web.yaml': appYaml({ listen: 9310, blueImage: 'web:1', greenImage: 'web:2', replicas: 3 }) });
    // A pull request's head, unsigned, on a ref the forge keeps.
    repo.git('checkout', '-q', '-b', 'feature');
    repo.write('apps/web.yaml', appYaml({ listen: 9310, blueImage: 'web:9', greenImage: 'web:2' }));
    repo.git('commit', '-q', '-am', 'web: unsigned change');
    c.pr = repo.git('rev-parse', 'HEAD');
    repo.git('push', '-q', 'origin', 'HEAD:refs/pull/3/head');
    repo.git('checkout', '-q', 'main');
  });
  afterAll(async () => {
    await server.close();
    repo.remove();
  });

  it('plans a tag, a commit that is no branch tip, and the branch, each verified, with the token from the config', async () => {
    const tag = await plan(config, '--ref', 'refs/tags/v1.0.0');
    expect(tag.code, tag.all).toBe(2);
    expect(tag.stdout).toMatch(new RegExp(`^plan for ${c.v1!.slice(0, 12)} \\(http://127\\.0\\.0\\.1:\\d+/desired\\.git@refs/tags/v1\\.0\\.0\\):\\n  signature: verified, SSH key ${alice.fingerprint.replace(/[+/]/g, '\\$&')} \\(alice@example\\.com\\)\\n  web  create: `));
    const sha = await plan(config, '--ref', c.v2!, '--format', 'json');
    expect(sha.code, sha.all).toBe(2);
    expect(JSON.parse(sha.stdout)).toMatchObject({ commit: c.v2, signer: { format: 'ssh', fingerprint: alice.fingerprint }, apps: [{ app: 'web', changes: expect.arrayContaining(['create 2 blue target(s) (web:1)']) }] });
    const branch = await plan(config);
    expect(branch.code, branch.all).toBe(2);
    expect(branch.stdout).toContain(`plan for ${c.tip!.slice(0, 12)}`);
    for (const r of [tag, sha, branch]) expect(r.all).not.toContain(TOKEN);
  });

  it('says a pull request\'s unsigned head would be refused (exit 1), and plans it without verify', async () => {
    const r = await plan(config, '--ref', 'refs/pull/3/head');
    expect(r.code, r.all).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^commit ${c.pr!.slice(0, 12)} is refused: it carries no signature \\(hint: `));
    expect(r.stderr).toMatch(/would be refused: 1 error\(s\); nothing live would change/);
    const open = await plan(noVerify, '--ref', 'refs/pull/3/head');
    expect(open.code, open.all).toBe(2);
    expect(open.stdout).toMatch(/web {2}create: .*\(web:9\)/);
    expect(open.stdout).not.toContain('signature:');
  });

  it('without credentials says the server wants them', async () => {
    const bare = join(repo.root, 'agent-bare.yaml');
    writeFileSync(bare, `repo: ${server.url}/desired.git\n`);
    const r = await plan(bare);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/desired\.git: HTTP Error: 401 .*hint: check the URL, the network and the credentials \(repoAuth in the config/);
  });

  it('validate --config gives the agent\'s verdict on the work tree\'s commit', async () => {
    const good = await run('validate', ['--config', config, repo.work]);
    expect(good.code, good.all).toBe(0);
    expect(good.stdout).toMatch(new RegExp(`^signature: verified, SSH key \\S+ \\(alice@example\\.com\\) on commit ${c.tip!.slice(0, 12)}\\nok: 1 app\\(s\\) valid \\(web\\)\\n$`));
    repo.git('checkout', '-q', 'feature');
    try {
      const bad = await run('validate', ['--config', config, repo.work]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(new RegExp(`commit ${c.pr!.slice(0, 12)} is refused: it carries no signature`));
    } finally {
      repo.git('checkout', '-q', 'main');
    }
  });
});
