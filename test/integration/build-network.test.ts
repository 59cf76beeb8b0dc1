// policy.buildNetwork on the real engine: with `none`, a build's RUN steps have no network interface but
// loopback; with the engine's default they have one. The same Dockerfile tells them apart.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import type { TargetSpec } from '../../src/core/target.js';
import { instanceName, testImages } from '../support/run.js';
import { color } from '../support/specs.js';

describe('build network (real engine)', () => {
  const instance = instanceName();
  // Succeeds only when the build has no network interface besides loopback. The mode is in the file, so
  // that the engine's build cache (which does not key on the network) cannot answer for the other mode.
  const dockerfile = (mode: string) => `FROM ${testImages().ok}\nENV SY_BUILD_NETWORK=${mode}\nRUN ["/bin/busybox", "sh", "-c", "for n in /sys/class/net/*; do [ \\"$n\\" = /sys/class/net/lo ] || exit 7; done"]\n`;
  const context = (mode: string) => async () => [{ path: 'Dockerfile', content: new TextEncoder().encode(dockerfile(mode)) }];
  const spec = (tag: string): TargetSpec => {
    const { replicas: _r, envFiles: _f, ...container } = color(tag, 1);
    return { ...container, image: tag, build: { context: 'images/web', dockerfile: 'Dockerfile', args: {} }, app: 'web', color: 'blue', replica: 0, specHash: 'abcdef0123456789', commit: 'c0ffee', env: {}, port: 8080 };
  };
  const tags = [`switchyard-build/${instance}-none:1`, `switchyard-build/${instance}-default:1`];
  afterAll(() => {
    execFileSync('docker', ['rmi', '-f', ...tags], { stdio: 'ignore' });
  });

  it('builds with no network under buildNetwork: none, and with one under the default', async () => {
    const none = new DockerRuntime(connectDocker(), instance, { readContext: context('none'), buildNetwork: 'none' });
    const t = await none.create(spec(tags[0]!));
    await none.remove(t.id);
    const open = new DockerRuntime(connectDocker(), instance, { readContext: context('default') });
    await expect(open.create(spec(tags[1]!))).rejects.toMatchObject({ code: 'BuildFailed', message: expect.stringMatching(/returned a non-zero code: 7/) });
  });
});
