// `switchyard validate [DIR]`: the agent's own loader and policy on a work tree, for PR CI. Exit code 0
// when valid, 1 when not; text for people, --format json for programs, --format github for annotations.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkedOutCommit } from '../adapters/git/git-source.js';
import { verifySnapshot, type Verification } from '../desired/verify.js';
import { describeSigner } from '../core/signature.js';
import type { AgentConfig } from '../config/agent-config.js';
import { verifyPolicy } from './source.js';
import { agentHost } from './host-view.js';
import { TEXT_ONLY } from '../core/host.js';
import { loadAgentConfig } from '../config/agent-config.js';
import { resolveBuilds } from '../desired/builds.js';
import { isAppFile, loadDesired } from '../desired/load.js';
import { SwitchyardError } from '../core/errors.js';
import { DEFAULT_POLICY, type Policy } from '../policy/policy.js';
import type { Snapshot, SnapshotFile } from '../core/source.js';
import { parseFlags } from './flags.js';
import { FORMATS, githubAnnotation, problemRecord, type Format } from './problems.js';

export async function validateDir(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('validate', args, { format: { type: 'string', default: 'text' }, config: { type: 'string' } }, true);
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new SwitchyardError('UsageError', `--format "${values.format}" is not a format`, { hint: `one of ${FORMATS.join(', ')}` });
  const dir = positionals[0] ?? '.';
  // The host's policy when its agent config is given (only its policy is used, so the repository
  // setting is filled in), with host paths judged by what their links resolve to on this host; else the
  // default policy, which is the strictest, on the text alone (a repository's CI is not the host).
  const config = values.config ? loadAgentConfig({ flags: { repo: '-' }, env: {}, file: { path: values.config, text: readFileSync(values.config, 'utf8') } }) : undefined;
  const policy: Policy = config?.policy ?? DEFAULT_POLICY;
  // With the host's config, also what its data plane can route (HAProxy has a fixed number of slots).
  const host = config ? agentHost(config) : TEXT_ONLY;
  // With the host's `verify`, the agent's signature verdict on the commit checked out (its files may differ: see README).
  const signature = config?.verify ? await verifyHead(dir, config) : undefined;
  const loaded = loadDesired('work-tree', readAppFiles(dir), policy, host);
  const checked = loaded.ok ? await resolveBuilds(loaded.state, async (sub) => readFolder(join(dir, sub)), { offline: policy.buildNetwork === 'none' }) : loaded;
  const result = signature && !signature.ok ? { ok: false as const, errors: [signature.error, ...(checked.ok ? [] : checked.errors)] } : checked;
  if (signature?.ok && format === 'text') process.stdout.write(`signature: verified, ${describeSigner(signature.signer)} on ${signature.what}\n`);
  // Paths as seen from where the command runs, so that annotations land on the right file.
  const prefix = dir === '.' ? '' : `${relative('.', dir) || '.'}/`;
  if (format === 'json') {
    const body = result.ok
      ? { ok: true, apps: result.state.apps.map((a) => a.name), errors: [], ...(signature?.ok ? { signer: signature.signer } : {}) }
      : { ok: false, apps: [], errors: result.errors.map((e) => problemRecord(e, prefix)) };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return result.ok ? 0 : 1;
  }
  if (!result.ok) {
    for (const e of result.errors) {
      process.stdout.write(`${format === 'github' ? githubAnnotation(e, prefix) : prefix + e.toString()}\n`);
    }
    process.stderr.write(`${result.errors.length} error(s); the agent would refuse this commit and change nothing.\n`);
    return 1;
  }
  process.stdout.write(`ok: ${result.state.apps.length} app(s) valid (${result.state.apps.map((a) => a.name).join(', ') || 'none'})\n`);
  return 0;
}

/** The signature verdict on the commit checked out in `dir` (mode head); in tag mode, the tag is the agent's and plan's to check. */
async function verifyHead(dir: string, config: Readonly<AgentConfig>): Promise<Verification | undefined> {
  const policy = verifyPolicy(config)!;
  if (policy.mode === 'tag') {
    process.stderr.write('signature: not checked here (verify.mode tag: the agent checks the tag it follows; `switchyard plan --ref refs/tags/NAME` shows its verdict)\n');
    return undefined;
  }
  let snapshot: Snapshot;
  try {
    snapshot = await checkedOutCommit(dir);
  } catch (e) {
    throw new SwitchyardError('UsageError', `verify is set, and ${dir} is not in a git repository with a commit: ${(e as Error).message}`, { hint: 'run validate in a clone of the repository, or without --config' });
  }
  return verifySnapshot(snapshot, policy, Date.now());
}

/** A build context in the work tree, as the agent reads it from a commit (links recorded, never followed). */
function readFolder(root: string): SnapshotFile[] {
  const files: SnapshotFile[] = [];
  const walk = (at: string) => {
    let names: string[];
    try {
      names = readdirSync(at);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(at, name);
      const st = lstatSync(p);
      const path = relative(root, p);
      if (st.isDirectory()) walk(p);
      else if (st.isSymbolicLink()) files.push({ path, content: new Uint8Array(), symlink: true });
      else if (st.isFile()) files.push({ path, content: readFileSync(p), ...(st.mode & 0o111 ? { executable: true } : {}) });
    }
  };
  walk(root);
  return files;
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
