// `build:` contexts: the image of a color built from a folder of the repository. When a commit is loaded,
// each context is read from that commit and the color's image becomes switchyard-build/APP:HASH, HASH
// covering every file (path, executable bit, content), the Dockerfile's name and the build args. So the
// spec hash, and the plan, see a change to any file of the folder; an unchanged folder keeps its tag and
// is never built again. The build itself happens when a target needs the image (the runtime).
import { createHash } from 'node:crypto';
import { SwitchyardError } from '../core/errors.js';
import type { SnapshotFile } from '../core/source.js';
import { COLORS, type BuildSpec, type DesiredState } from '../core/app.js';

/** A build context may not be larger than this (the whole folder is sent to the engine). */
export const MAX_CONTEXT_BYTES = 256 * 1024 * 1024;

export type ReadFolder = (dir: string) => Promise<SnapshotFile[]>;

/** `offline`: the host's policy gives builds no network (buildNetwork: none), so a Dockerfile may not ADD from a URL either. */
export async function resolveBuilds(state: DesiredState, read: ReadFolder, opts: { offline?: boolean } = {}): Promise<{ ok: true; state: DesiredState } | { ok: false; errors: SwitchyardError[] }> {
  const errors: SwitchyardError[] = [];
  const tags = new Map<string, Promise<string | SwitchyardError>>();
  const apps = await Promise.all(
    state.apps.map(async (app) => {
      const colors = { ...app.colors };
      for (const color of COLORS) {
        const build = colors[color].build;
        if (!build) continue;
        const key = JSON.stringify([app.name, build.context, build.dockerfile, build.args]);
        if (!tags.has(key)) tags.set(key, contextTag(app.name, build, read, opts.offline ?? false));
        const tag = await tags.get(key)!;
        if (typeof tag === 'string') colors[color] = { ...colors[color], image: tag };
        else errors.push(tag);
      }
      return { ...app, colors };
    }),
  );
  const unique = [...new Map(errors.map((e) => [e.toString(), e])).values()];
  return unique.length ? { ok: false, errors: unique } : { ok: true, state: { ...state, apps } };
}

async function contextTag(app: string, build: BuildSpec, read: ReadFolder, offline: boolean): Promise<string | SwitchyardError> {
  const bad = (message: string, hint: string) => new SwitchyardError('ValidationFailed', message, { ...(build.location ? { location: build.location } : {}), hint });
  const files = await read(build.context);
  if (!files.length) return bad(`build context "${build.context}" is not in this commit (or is empty)`, 'commit the folder, or fix the path: it is read from the folder that holds apps/');
  const link = files.find((f) => f.symlink);
  if (link) return bad(`build context "${build.context}" holds a symbolic link (${link.path}); Switchyard never follows links`, 'commit the file itself');
  const dockerfile = files.find((f) => f.path === build.dockerfile);
  if (!dockerfile) return bad(`build context "${build.context}" has no ${build.dockerfile}`, 'add it, or name it with build.dockerfile');
  // The engine itself fetches an ADD from a URL, on the host's network (its loopback services too).
  const remote = offline ? remoteAdd(new TextDecoder().decode(dockerfile.content)) : undefined;
  if (remote) {
    return new SwitchyardError('PolicyDenied', `${build.context}/${build.dockerfile}:${remote.line}: ADD from ${remote.url}: denied by the agent's policy (rule "buildNetwork")`, {
      ...(build.location ? { location: build.location } : {}),
      hint: 'builds on this host have no network: commit the file into the build context instead',
    });
  }
  const size = files.reduce((n, f) => n + f.content.length, 0);
  if (size > MAX_CONTEXT_BYTES) return bad(`build context "${build.context}" holds ${size} bytes, more than the limit of ${MAX_CONTEXT_BYTES}`, 'build the image elsewhere and name it with image');
  const hash = createHash('sha256').update(JSON.stringify([build.dockerfile, Object.entries(build.args).sort(([a], [b]) => a.localeCompare(b))]));
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    hash.update(`\n${f.path}\0${f.executable ? 'x' : '-'}\0${createHash('sha256').update(f.content).digest('hex')}`);
  }
  return `switchyard-build/${app}:${hash.digest('hex').slice(0, 16)}`;
}

/** The first `ADD <url>` of a Dockerfile (instructions are case-insensitive; flags like --chown come first). */
function remoteAdd(dockerfile: string): { line: number; url: string } | undefined {
  const lines = dockerfile.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*ADD\s+(?:--\S+\s+)*(\S+)/i.exec(lines[i]!);
    if (m && /^[a-z][a-z0-9+.-]*:\/\//i.test(m[1]!)) return { line: i + 1, url: m[1]! };
    const json = /^\s*ADD\s+(?:--\S+\s+)*\[\s*"([^"]+)"/i.exec(lines[i]!);
    if (json && /^[a-z][a-z0-9+.-]*:\/\//i.test(json[1]!)) return { line: i + 1, url: json[1]! };
  }
  return undefined;
}
