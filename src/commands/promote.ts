// `switchyard promote APP [--to COLOR]`: the pull-request way to flip. In a checkout of the desired-state
// repository it changes the app's `active` (nothing else in the file), checks that the result is valid,
// and commits it on a new branch, ready to push. `--no-commit` only edits the file. Flipping by hand
// (edit `active`, commit) stays just as valid.
import * as fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { otherColor, type Color } from '../core/app.js';
import { loadDesired } from '../desired/load.js';
import { setActive } from '../desired/set-active.js';
import { SwitchyardError } from '../core/errors.js';
import { DEFAULT_POLICY, type Policy } from '../policy/policy.js';
import { parseFlags } from './flags.js';
import { readAppFiles } from './validate.js';

// Promote checks the file's shape only: the host's policy is the agent's to apply, at apply time.
const ANY_HOST: Policy = { ...DEFAULT_POLICY, allowPrivileged: true, allowHostNetwork: true, allowHostPid: true, allowDevices: true, allowDockerSocket: true, bindMountPaths: ['/'], envFilePaths: ['/'], allowCapAdd: [] };

export async function promote(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    'promote',
    args,
    { to: { type: 'string' }, repo: { type: 'string', default: '.' }, path: { type: 'string', default: '' }, branch: { type: 'string' }, 'no-commit': { type: 'boolean', default: false } },
    true,
  );
  const usage = (message: string, hint: string) => new SwitchyardError('UsageError', message, { hint });
  const app = positionals[0];
  if (!app || positionals.length > 1) throw usage('promote takes one app name', 'switchyard promote APP [--to blue|green]');
  if (values.to !== undefined && values.to !== 'blue' && values.to !== 'green') throw usage(`--to "${values.to}" is not a color`, 'use --to blue or --to green');
  const dir = values.repo;
  const base = join(dir, values.path);
  const files = readAppFiles(base);
  const file = files.find((f) => appName(f.content) === app);
  if (!file) throw usage(`no app "${app}" in ${join(base, 'apps')}`, `apps there: ${files.map((f) => appName(f.content)).filter(Boolean).join(', ') || 'none'}`);
  const text = new TextDecoder().decode(file.content);
  const current = /^active:\s*["']?(blue|green)/m.exec(text)?.[1] as Color | undefined;
  const to: Color = (values.to as Color | undefined) ?? otherColor(current ?? 'green');
  const edited = setActive(text, to);
  if (!edited.ok) throw new SwitchyardError('ValidationFailed', `${file.path}: ${edited.reason}`, { hint: 'fix the file by hand, then try again' });
  if (edited.from === to) {
    process.stdout.write(`${app} is already ${to} in ${file.path}: nothing to do\n`);
    return 0;
  }
  // The edited repository must be one the agent would accept.
  const check = loadDesired('promote', files.map((f) => (f === file ? { ...f, content: new TextEncoder().encode(edited.text) } : f)), ANY_HOST);
  if (!check.ok) {
    for (const e of check.errors) process.stderr.write(`${e.toString()}\n`);
    throw new SwitchyardError('ValidationFailed', `promoting ${app} to ${to} would make the repository invalid`, { hint: 'fix the errors above first' });
  }
  const repoPath = join(values.path, file.path).replace(/^\.\//, '');
  if (values['no-commit']) {
    fs.writeFileSync(join(dir, repoPath), edited.text);
    process.stdout.write(`${repoPath}: active ${edited.from} -> ${to} (line ${edited.line}); not committed\n`);
    return 0;
  }

  if ((await git.status({ fs, dir, filepath: repoPath })) !== 'unmodified') {
    throw usage(`${repoPath} has changes that are not committed`, 'commit or stash them first, or use --no-commit');
  }
  const branch = values.branch ?? `promote/${app}-${to}-${stamp()}`;
  try {
    await git.branch({ fs, dir, ref: branch, checkout: true });
  } catch (e) {
    throw usage(`cannot create branch ${branch}: ${(e as Error).message}`, 'pass another name with --branch');
  }
  fs.writeFileSync(join(dir, repoPath), edited.text);
  await git.add({ fs, dir, filepath: repoPath });
  let sha: string;
  try {
    sha = await git.commit({ fs, dir, message: `${app}: promote ${to} (was ${edited.from})\n\nSets active: ${to} in ${repoPath}. Made with switchyard promote.\n` });
  } catch (e) {
    throw usage(`cannot commit: ${(e as Error).message}`, 'set your identity: git config user.name "…" && git config user.email "…"');
  }
  process.stdout.write(`${app}: ${edited.from} -> ${to}, committed ${sha.slice(0, 12)} on branch ${branch}\nPush it and open a pull request:\n  git push -u origin ${branch}\n`);
  return 0;
}

function appName(content: Uint8Array): string | undefined {
  return /^name:\s*["']?([a-z0-9-]+)/m.exec(new TextDecoder().decode(content))?.[1];
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
