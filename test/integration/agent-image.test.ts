// The agent's container image, built offline by packaging/build-image.sh, runs the real CLI.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, inject } from 'vitest';

const run = promisify(execFile);

describe('agent container image', () => {
  const tag = `switchyard-test/agent:${inject('runId')}`;
  afterAll(async () => {
    await run('docker', ['rmi', '-f', tag]).catch(() => undefined);
  });

  it('builds without a registry and runs the CLI, validating a repository mounted into it', async () => {
    // dist/ was built by the global setup; other tests run the CLI from it meanwhile.
    const built = await run('bash', ['packaging/build-image.sh', tag], { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, SWITCHYARD_DIST_READY: '1' } });
    expect(built.stdout.trim().split('\n').pop()).toBe(tag);
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };
    expect((await run('docker', ['run', '--rm', tag, '--version'])).stdout).toBe(`${version}\n`);
    const validated = await run('docker', ['run', '--rm', '-v', `${resolve('example-repo')}:/repo:ro`, tag, 'validate', '/repo']);
    expect(validated.stdout).toBe('ok: 1 app(s) valid (hello)\n');
  }, 300_000);
});
