import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveBuilds } from '../../src/desired/builds.js';
import { loadDesired } from '../../src/desired/load.js';
import { DEFAULT_POLICY } from '../../src/policy/policy.js';
import { tarball } from '../../src/adapters/docker/tar.js';
import type { SnapshotFile } from '../../src/core/source.js';

const enc = (s: string) => new TextEncoder().encode(s);
const APP = `name: web
listen: 9000
port: 8080
build:
  context: images/web
  args: { VERSION: 2 }
colors:
  blue: {}
  green: { image: "other:1" }
active: blue
`;

function loaded(text = APP) {
  const r = loadDesired('c1', [{ path: 'apps/web.yaml', content: enc(text) }]);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.state;
}
const folder = (files: Record<string, string>, executable: string[] = []) => async (dir: string): Promise<SnapshotFile[]> =>
  dir === 'images/web' ? Object.entries(files).map(([path, c]) => ({ path, content: enc(c), ...(executable.includes(path) ? { executable: true } : {}) })) : [];
const CONTEXT = { Dockerfile: 'FROM base\nCOPY app /app\n', 'app/run.sh': 'echo hi\n' };

describe('build contexts', () => {
  it('tags the image with a hash of the folder: the same content gives the same tag, any change a new one', async () => {
    const tagOf = async (files: Record<string, string>, executable: string[] = [], text = APP) => {
      const r = await resolveBuilds(loaded(text), folder(files, executable));
      if (!r.ok) throw new Error(r.errors.join('\n'));
      return r.state.apps[0]!.colors;
    };
    const first = await tagOf(CONTEXT);
    expect(first.blue.image).toMatch(/^switchyard-build\/web:[0-9a-f]{16}$/);
    // The color's own image wins over the shared build.
    expect(first.green).toMatchObject({ image: 'other:1' });
    expect(first.green.build).toBeUndefined();
    expect((await tagOf({ ...CONTEXT })).blue.image).toBe(first.blue.image);
    const changes = [
      await tagOf({ ...CONTEXT, 'app/run.sh': 'echo bye\n' }),
      await tagOf(CONTEXT, ['app/run.sh']),
      await tagOf({ ...CONTEXT, 'app/new.txt': '' }),
      await tagOf(CONTEXT, [], APP.replace('VERSION: 2', 'VERSION: 3')),
    ];
    const tags = new Set([first.blue.image, ...changes.map((c) => c.blue.image)]);
    expect(tags.size).toBe(5);
  });

  it('refuses the commit, pointing at the build field, when the context is missing, has no Dockerfile or holds a link', async () => {
    const problems = async (read: (dir: string) => Promise<SnapshotFile[]>) => {
      const r = await resolveBuilds(loaded(), read);
      expect(r.ok).toBe(false);
      return r.ok ? [] : r.errors.map((e) => e.toString());
    };
    expect(await problems(async () => [])).toEqual([expect.stringMatching(/^apps\/web\.yaml:5:\d+ build\.context: build context "images\/web" is not in this commit/)]);
    expect(await problems(folder({ 'app/run.sh': 'x' }))).toEqual([expect.stringMatching(/has no Dockerfile/)]);
    const withLink = async (dir: string) => [...(await folder(CONTEXT)(dir)), { path: 'app/secret', content: new Uint8Array(), symlink: true }];
    expect(await problems(withLink)).toEqual([expect.stringMatching(/holds a symbolic link \(app\/secret\)/)]);
  });

  it('refuses image and build side by side, and a context that climbs out of the repository', () => {
    const both = loadDesired('c1', [{ path: 'apps/web.yaml', content: enc(APP.replace('build:', 'image: x:1\nbuild:')) }]);
    expect(!both.ok && both.errors.map((e) => e.toString())).toEqual([expect.stringMatching(/^apps\/web\.yaml:\d+:\d+ build: set exactly one of "image" or "build"/)]);
    const climbing = loadDesired('c1', [{ path: 'apps/web.yaml', content: enc(APP.replace('images/web', '../../etc')) }]);
    expect(!climbing.ok && climbing.errors[0]!.location).toMatchObject({ line: 5, field: 'build.context' });
  });

  it('packs a context as a tar archive that tar itself extracts, executable bits and long paths included', () => {
    const long = `${'deep/'.repeat(30)}file.txt`;
    const dir = mkdtempSync(join(tmpdir(), 'sy-tar-'));
    try {
      writeFileSync(join(dir, 'ctx.tar'), tarball([
        { path: 'Dockerfile', content: enc('FROM scratch\n') },
        { path: 'bin/run', content: enc('#!/bin/sh\n'), executable: true },
        { path: long, content: enc('x'.repeat(1000)) },
      ]));
      execFileSync('tar', ['-xf', 'ctx.tar'], { cwd: dir });
      expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
      expect(statSync(join(dir, 'bin/run')).mode & 0o777).toBe(0o755);
      expect(statSync(join(dir, 'Dockerfile')).mode & 0o777).toBe(0o644);
      expect(readFileSync(join(dir, long), 'utf8')).toBe('x'.repeat(1000));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the policy gives builds no network, refuses a Dockerfile that ADDs from a URL (the engine would fetch it on the host), naming its line', async () => {
    const dockerfile = 'FROM base\nCOPY app /app\nadd --chown=1:1 http://127.0.0.1:8500/v1/kv/secrets /secrets\n';
    const offline = await resolveBuilds(loaded(), folder({ ...CONTEXT, Dockerfile: dockerfile }), { offline: true });
    expect(!offline.ok && offline.errors.map((e) => e.toString())).toEqual([
      expect.stringMatching(/^apps\/web\.yaml:5:12 build\.context: images\/web\/Dockerfile:3: ADD from http:\/\/127\.0\.0\.1:8500\/v1\/kv\/secrets: denied by the agent's policy \(rule "buildNetwork"\)/),
    ]);
    const json = await resolveBuilds(loaded(), folder({ ...CONTEXT, Dockerfile: 'FROM base\nADD ["https://example.com/x.tgz", "/x"]\n' }), { offline: true });
    expect(json.ok).toBe(false);
    // A local ADD is fine offline; a URL is fine with the engine's default network.
    expect((await resolveBuilds(loaded(), folder({ ...CONTEXT, Dockerfile: 'FROM base\nADD app /app\n' }), { offline: true })).ok).toBe(true);
    expect((await resolveBuilds(loaded(), folder({ ...CONTEXT, Dockerfile: dockerfile }))).ok).toBe(true);
  });

  it('refuses a build: when the policy does not allow builds on this host', () => {
    const r = loadDesired('c1', [{ path: 'apps/web.yaml', content: enc(APP) }], { ...DEFAULT_POLICY, allowBuilds: false });
    expect(!r.ok && r.errors.map((e) => e.toString())).toEqual([expect.stringMatching(/^apps\/web\.yaml:5:3 build: building an image on this host \(images\/web\): denied by the agent's policy \(rule "allowBuilds"\)/)]);
  });
});
