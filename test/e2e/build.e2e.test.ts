// `build:` on the real engine, end to end: the agent fetches a commit over HTTP, reads the build context
// from it (an executable CGI script included), builds the image tagged by the folder's content, and
// serves it; a change in the folder rolls the targets onto a new image with no failed request; a broken
// Dockerfile stops at BuildFailed with the engine's words, and what serves keeps serving.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eWorld } from '../support/agent-process.js';
import { freePort } from '../support/ports.js';
import { get, startLoad } from '../support/load.js';
import { testImages, until } from '../support/run.js';

const app = (listen: number) => `name: web
listen: ${listen}
port: 8080
health: { path: /healthz, interval: 100ms, healthyThreshold: 2, startTimeout: 20s }
build:
  context: images/web
  args: { RELEASE: v1 }
colors:
  blue: { replicas: 2 }
  green: { replicas: 0 }
active: blue
`;
const cgi = (word: string) => `#!/bin/busybox sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf '${word} %s (%s)\\n' "$VERSION" "$SWITCHYARD_COLOR"
`;

describe('build: an image built from the repository', () => {
  const w = new E2eWorld();
  let listen: number;

  /** Writes the CGI script with its executable bit and commits it with the other files. */
  const commit = (message: string, word: string, files: Record<string, string> = {}) => {
    w.repo.write('images/web/index.cgi', cgi(word));
    chmodSync(join(w.repo.work, 'images/web/index.cgi'), 0o755);
    return w.repo.commit(message, files);
  };
  /** The state a test starts from: the app built from a script saying `word`, live and Ready. */
  const settle = (word: string) => {
    w.repo.write('images/web/index.cgi', cgi(word));
    chmodSync(join(w.repo.work, 'images/web/index.cgi'), 0o755);
    return w.settle({}, ['web'], `web: baseline (${word})`);
  };
  const body = async () => (await get(listen).catch(() => undefined))?.body ?? '';
  const builtImages = () => (execFileSync('docker', ['images', '--filter', `label=dev.switchyard.instance=${w.instance}`, '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' }).split('\n').filter(Boolean));

  beforeAll(async () => {
    listen = await freePort();
    await w.serve({});
    commit('built v1', 'built', {
      'apps/web.yaml': app(listen),
      'images/web/Dockerfile': `FROM ${testImages().ok}\nARG RELEASE\nENV VERSION=\${RELEASE}\nCOPY index.cgi /www/cgi-bin/index.cgi\n`,
    });
    await w.start('300ms');
  });
  afterAll(() => w.tearDown());

  it('builds the image from the commit, with its build args, and serves it', async () => {
    await until('the built image to serve', async () => ((await body()) === 'built v1 (blue)\n' ? true : undefined));
    const [image] = builtImages();
    expect(image).toMatch(/^switchyard-build\/web:[0-9a-f]{16}$/);
    expect((await w.runtime.list()).map((t) => t.color)).toEqual(['blue', 'blue']);
  });

  it('rolls onto a new image when a file of the folder changes, failing no request', async () => {
    await settle('before');
    const before = builtImages();
    const load = startLoad(listen);
    await until('traffic', () => (load.counts.ok >= 50 ? true : undefined));
    commit('rebuilt', 'rebuilt');
    await until('the new image to serve', async () => ((await body()) === 'rebuilt v1 (blue)\n' ? true : undefined));
    await until('the roll to finish', async () => ((await w.runtime.list()).length === 2 && (await w.agent.status()).apps.web?.conditions[0]?.status === 'True' ? true : undefined));
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(counts.byColor.blue).toBeGreaterThan(50);
    const after = builtImages();
    expect(after).toHaveLength(before.length + 1);
  });

  it('stops at BuildFailed, with the engine\'s error, when the Dockerfile is broken; what serves keeps serving', async () => {
    await settle('steady');
    const broken = commit('broken Dockerfile', 'never', { 'images/web/Dockerfile': `FROM ${testImages().ok}\nCOPY missing-file /x\n` });
    const stalled = await until('BuildFailed', async () => {
      const web = (await w.agent.status()).apps.web;
      const c = web?.conditions.find((x) => x.type === 'Stalled');
      return web?.lastAttemptedCommit === broken && c?.reason === 'BuildFailed' ? c : undefined;
    });
    expect(stalled.message).toMatch(/cannot build switchyard-build\/web:[0-9a-f]{16} from images\/web .*missing-file/);
    expect(stalled.message).toMatch(/apps\/web\.yaml:6:\d+ build\.context/);
    expect(await body()).toBe('steady v1 (blue)\n');
  });
});
