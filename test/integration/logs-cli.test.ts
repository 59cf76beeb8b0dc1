// `switchyard logs` on the real engine: lines from each of an app's containers, prefixed with it.
import { execFile } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import type { TargetSpec } from '../../src/core/target.js';
import { color } from '../support/specs.js';
import { instanceName, testImages, until } from '../support/run.js';

const cli = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, ['bin/switchyard.js', 'logs', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  );

describe('switchyard logs (CLI)', () => {
  const instance = instanceName();
  const runtime = new DockerRuntime(connectDocker(), instance);
  afterAll(async () => {
    for (const t of await runtime.list()) await runtime.remove(t.id);
  });
  const talker = (c: 'blue' | 'green', word: string): TargetSpec => {
    const { replicas: _r, envFiles: _f, ...container } = color(testImages().ok, 1);
    return {
      ...container, app: 'web', color: c, replica: 0, specHash: `${c}hash0123456789`, commit: 'c', port: 8080, env: {}, worker: 'talker',
      command: ['/bin/busybox', 'sh', '-c', `echo ${word} one; echo ${word} two >&2; sleep 3600`],
    };
  };

  it('prints the output of every container of the app (stdout and stderr), or of one color', async () => {
    const blue = await runtime.create(talker('blue', 'hello'));
    const green = await runtime.create(talker('green', 'hi'));
    const all = await until('both containers to have spoken', async () => {
      const r = await cli('web', '--instance', instance);
      return r.stdout.split('\n').filter(Boolean).length >= 4 ? r : undefined;
    });
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n').filter(Boolean).sort()).toEqual([`[${blue.name}] hello one`, `[${blue.name}] hello two`, `[${green.name}] hi one`, `[${green.name}] hi two`].sort());
    const greenOnly = await cli('web', '--color', 'green', '--instance', instance);
    expect(greenOnly.stdout).not.toContain(blue.name);
    expect(greenOnly.stdout).toContain(`[${green.name}] hi one`);
  });

  it('says what to check when the app has no containers', async () => {
    const r = await cli('nope', '--instance', instance);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no containers of app "nope" .*\(hint: check the app name/);
  });
});
