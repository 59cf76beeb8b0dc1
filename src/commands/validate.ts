// `switchyard validate [DIR]`: the same loader the agent uses, on a work tree (for PR CI).
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseFlags } from './flags.js';
import { isAppFile, loadDesired } from '../desired/load.js';
import { SwitchyardError } from '../errors.js';
import type { SnapshotFile } from '../source/snapshot.js';

export async function validateDir(args: string[]): Promise<number> {
  const { positionals } = parseFlags('validate', args, {}, true);
  const dir = positionals[0] ?? '.';
  const files = readAppFiles(dir);
  const result = loadDesired('work-tree', files);
  if (!result.ok) {
    for (const e of result.errors) process.stderr.write(`${e.toString()}\n`);
    process.stderr.write(`${result.errors.length} error(s); the agent would refuse this commit and change nothing.\n`);
    return 1;
  }
  process.stdout.write(`ok: ${result.state.apps.length} app(s) valid (${result.state.apps.map((a) => a.name).join(', ') || 'none'})\n`);
  return 0;
}

export function readAppFiles(dir: string): SnapshotFile[] {
  const appsDir = join(dir, 'apps');
  let names: string[];
  try {
    names = readdirSync(appsDir);
  } catch {
    throw new SwitchyardError('UsageError', `no apps/ folder in ${dir}`, { hint: 'pass the root of a desired-state repository' });
  }
  return names
    .map((n) => join(appsDir, n))
    .filter((p) => isAppFile(relative(dir, p)))
    .map((p) => {
      const path = relative(dir, p);
      return lstatSync(p).isSymbolicLink() ? { path, content: new Uint8Array(), symlink: true } : { path, content: readFileSync(p) };
    });
}
