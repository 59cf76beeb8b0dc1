// The agent's source, as `run` and `plan` both build it from the config: the ref to follow, the
// credentials (repoAuth files, or SWITCHYARD_GIT_* which win), and the signature check of `verify`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSignatureVerifier } from '../adapters/signatures/file-verifier.js';
import { GitSource, isRemote } from '../adapters/git/git-source.js';
import { GitReverter } from '../adapters/git/git-revert.js';
import { GitNotesReporter } from '../adapters/git/git-notes.js';
import type { Logger } from '../core/log.js';
import { hostname } from 'node:os';
import type { Forge } from '../adapters/forge/commit-status.js';
import { SwitchyardError } from '../core/errors.js';
import { parseRef, type GitRef } from '../core/git-ref.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { VerifyPolicy } from '../desired/verify.js';

type Credentials = { username: string; password: string };

/**
 * The repository's credentials, read now (and again at each fetch through the returned function):
 * SWITCHYARD_GIT_PASSWORD (with SWITCHYARD_GIT_USERNAME), else the files of repoAuth. Throws a
 * UsageError naming the setting when a file cannot be read, so a bad setup fails at start.
 */
export function gitCredentials(config: Pick<AgentConfig, 'repoAuth' | 'pushAuth'>, env: NodeJS.ProcessEnv = process.env, use: 'fetch' | 'push' = 'fetch'): (() => Credentials | undefined) | undefined {
  const key = use === 'push' && config.pushAuth ? 'pushAuth' : 'repoAuth';
  const read = (): Credentials | undefined => {
    if (env.SWITCHYARD_GIT_PASSWORD && key === 'repoAuth') return { username: env.SWITCHYARD_GIT_USERNAME || 'git', password: env.SWITCHYARD_GIT_PASSWORD };
    const auth = config[key];
    if (!auth) return undefined;
    const username = auth.usernameFile ? secretFile(auth.usernameFile, `${key}.usernameFile`) : (auth.username ?? 'git');
    const password = secretFile((auth.tokenFile ?? auth.passwordFile)!, auth.tokenFile ? `${key}.tokenFile` : `${key}.passwordFile`);
    return { username, password };
  };
  let last = read();
  if (!last) return undefined;
  // Later reads that fail keep the last good credentials: a token file being rewritten is not a failed pass.
  return () => {
    try {
      last = read();
    } catch {
      /* keep the last */
    }
    return last;
  };
}

function secretFile(path: string, field: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SwitchyardError('UsageError', `cannot read ${field} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { location: { field }, hint: 'name a file readable by the agent (owner-only, 0600)' });
  }
  const value = text.trim();
  if (!value) throw new SwitchyardError('UsageError', `${field} ${path} is empty`, { location: { field }, hint: 'put the secret in the file' });
  return value;
}

/** The agent's source; `ref` (a plan's --ref) replaces the followed one, and plans share one cache for every ref. */
export function agentSource(config: Readonly<AgentConfig>, opts: { ref?: GitRef; plan?: boolean } = {}): GitSource {
  const auth = gitCredentials(config);
  return new GitSource({
    repo: config.repo,
    ref: opts.ref ?? parseRef(config.ref, config.semver),
    path: config.path,
    cacheDir: join(config.stateDir, opts.plan ? 'plan-git' : 'git'),
    ...(opts.plan ? { cacheKey: config.repo } : {}),
    ...(auth ? { auth } : {}),
  });
}

/**
 * The reverter of a guard's revertCommit: over http(s), on a followed branch, as the agent, with pushAuth
 * (else the fetch credentials). Undefined when the agent follows a tag, a range or a commit, or a local path.
 */
/** Who the agent's own git writes (reverts, notes) are by. */
function agentAuthor(config: Pick<AgentConfig, 'instance'>): { name: string; email: string } {
  return { name: `switchyard (${config.instance})`, email: `switchyard@${hostname()}` };
}

export function agentReverter(config: Readonly<AgentConfig>): GitReverter | undefined {
  const ref = parseRef(config.ref, config.semver);
  if (ref.kind !== 'branch' || !isRemote(config.repo)) return undefined;
  const auth = gitCredentials(config, process.env, 'push');
  return new GitReverter({
    repo: config.repo,
    branch: ref.name,
    cacheDir: join(config.stateDir, 'git'),
    author: agentAuthor(config),
    ...(auth ? { auth } : {}),
  });
}

/** The git notes reporter (the config's `report.gitNotes`), with the credentials that may push. */
export function agentNotes(config: Readonly<AgentConfig>, log: Logger, onFailure: () => void): GitNotesReporter | undefined {
  if (!config.report?.gitNotes) return undefined;
  const auth = gitCredentials(config, process.env, 'push');
  return new GitNotesReporter({ repo: config.repo, cacheDir: join(config.stateDir, 'git'), author: agentAuthor(config), ...(auth ? { auth } : {}) }, log, onFailure);
}

/** The forges the agent posts commit statuses to (the config's `report`); each token file is read again at every post. */
export function forgesOf(config: Pick<AgentConfig, 'report'>): Forge[] {
  const { github, gitlab } = config.report ?? {};
  const token = (file: string, field: string) => {
    secretFile(file, field);
    return () => secretFile(file, field);
  };
  return [
    ...(github ? [{ kind: 'github' as const, apiUrl: github.apiUrl ?? 'https://api.github.com', repo: github.repo, token: token(github.tokenFile, 'report.github.tokenFile') }] : []),
    ...(gitlab ? [{ kind: 'gitlab' as const, url: gitlab.url, project: gitlab.project, token: token(gitlab.tokenFile, 'report.gitlab.tokenFile') }] : []),
  ];
}

/** What `verify` asks, or undefined when it is not set. */
export function verifyPolicy(config: Pick<AgentConfig, 'verify'>): VerifyPolicy | undefined {
  const v = config.verify;
  if (!v) return undefined;
  return { mode: v.mode, verifier: new FileSignatureVerifier({ ...(v.allowedSigners ? { allowedSigners: v.allowedSigners } : {}), ...(v.gpgKeys ? { gpgKeys: v.gpgKeys } : {}) }) };
}
