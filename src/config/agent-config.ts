// The agent's configuration: defaults < config file (YAML) < SWITCHYARD_* environment variables < flags,
// validated as one record against schemas/agent-config.schema.json, then frozen. The host-safety
// policy comes from the file only: it is the operator's, never the repository's.
import { DEFAULT_STATE_DIR } from './state-dir.js';
import type { ValidateFunction } from 'ajv';
import { validate as validateConfig } from './agent-config-validator.generated.js';
import cron from 'node-cron';
import { LineCounter, parseDocument } from 'yaml';
import { YamlLocator } from '../core/yaml-location.js';
import { SwitchyardError, type Location } from '../core/errors.js';
import type { Policy } from '../policy/policy.js';
import type { Entrypoints } from '../core/route.js';
import { describeRef, parseRef, type GitRef } from '../core/git-ref.js';

export interface RepoAuth {
  tokenFile?: string;
  username?: string;
  usernameFile?: string;
  passwordFile?: string;
}

export interface AgentConfig {
  repo: string;
  /** What to follow (`ref`, or its older name `branch`): a branch, refs/tags/NAME or a full commit id. */
  ref: string;
  /** Follow the newest tag in this range instead. */
  semver?: string;
  /** Apply only what a listed key signed (file only). */
  verify?: { mode: 'head' | 'tag'; allowedSigners?: string; gpgKeys?: string };
  /** Credentials for an http(s) repository, as files (file only). */
  repoAuth?: RepoAuth;
  /** Credentials that may push (a guard's revertCommit); absent: repoAuth's (file only). */
  pushAuth?: RepoAuth;
  /** Commit statuses on the forge (file only). */
  report?: { github?: { repo: string; tokenFile: string; apiUrl?: string }; gitlab?: { url: string; project: string; tokenFile: string }; gitNotes?: boolean };
  path: string;
  interval: string;
  instance: string;
  listenHost: string;
  /** The shared ports, ADDR:PORT each (file, --http/--https, SWITCHYARD_HTTP/SWITCHYARD_HTTPS). */
  entrypoints: { http?: string; https?: string };
  /** Where certificates for tls: acme come from (file only). */
  acme?: { directory: string; email: string; caFile?: string };
  api: string;
  stateDir: string;
  router: 'embedded' | 'haproxy';
  /** Where targets run: this host's engine, or the swarm it manages. */
  runtime: 'docker' | 'swarm';
  logLevel: string;
  apiToken?: string;
  /** Host names besides loopback ones that tokenless API reads may name (file only). */
  apiAllowedHosts: string[];
  /** Peers in front of the data plane whose X-Forwarded-* headers are believed (file only). */
  trustedProxies: string[];
  /** Worker processes of the embedded proxy, sharing its listen sockets (file only). */
  proxyWorkers: number;
  webhookSecret?: string;
  notifyUrl?: string;
  staleAfter: number;
  schedule?: string;
  /** Pull credentials by registry host; from the config file only. */
  registries: Record<string, { username: string; password: string }>;
  policy: Policy;
}

const KEYS = ['repo', 'ref', 'branch', 'semver', 'path', 'interval', 'schedule', 'instance', 'listenHost', 'api', 'stateDir', 'router', 'runtime', 'logLevel', 'apiToken', 'webhookSecret', 'notifyUrl'] as const;
type Key = (typeof KEYS)[number];
/** Settings inside `entrypoints` that have a flag and an env var of their own. */
const ENTRYPOINTS = ['http', 'https'] as const;
export type EntrypointKey = (typeof ENTRYPOINTS)[number];

export const flagName = (key: Key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
export const envName = (key: Key) => `SWITCHYARD_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export interface ConfigSources {
  /** Flag values by config key (only those given). */
  flags: Partial<Record<Key | EntrypointKey, string>>;
  env: Record<string, string | undefined>;
  /** The config file: its path and text. */
  file?: { path: string; text: string };
}

export function loadAgentConfig(sources: ConfigSources): Readonly<AgentConfig> {
  const merged: Record<string, unknown> = {};
  // Where each top-level setting came from, so that an error can say where to fix it.
  let fileLocator: YamlLocator | undefined;
  const origin = new Map<string, 'file' | 'env' | 'flag'>();
  if (sources.file) {
    const { path, text } = sources.file;
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
    const locator = new YamlLocator(path, doc, lines);
    fileLocator = locator;
    if (doc.errors.length) throw configError(`YAML: ${doc.errors[0]!.message.split('\n')[0]}`, locator.offset(doc.errors[0]!.pos[0]), 'fix the YAML syntax');
    const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (data !== null && (typeof data !== 'object' || Array.isArray(data))) throw configError('the config file must be a mapping of settings', { file: path, line: 1, col: 1 }, 'e.g. repo: https://…');
    for (const [k, v] of Object.entries((data ?? {}) as Record<string, unknown>)) {
      merged[k] = v;
      origin.set(k, 'file');
    }
  }
  for (const key of KEYS) {
    const fromEnv = sources.env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') {
      merged[key] = fromEnv;
      origin.set(key, 'env');
    }
    const fromFlag = sources.flags[key];
    if (fromFlag !== undefined) {
      merged[key] = fromFlag;
      origin.set(key, 'flag');
    }
  }
  for (const key of ENTRYPOINTS) {
    const given = sources.flags[key] ?? (sources.env[envName(key as Key)] || undefined);
    if (given === undefined) continue;
    const current = merged.entrypoints;
    merged.entrypoints = { ...(current && typeof current === 'object' ? current : {}), [key]: given };
    origin.set(`entrypoints.${key}`, sources.flags[key] !== undefined ? 'flag' : 'env');
  }
  merged.stateDir ??= DEFAULT_STATE_DIR;

  // Compiled ahead of time from the schema (scripts/compile-schemas.ts), defaults filled in as it checks.
  const validate = validateConfig as unknown as ValidateFunction;
  if (!validate(merged)) {
    const e = validate.errors![0]!;
    const path = e.instancePath.split('/').slice(1);
    const named = e.keyword === 'additionalProperties' ? String(e.params.additionalProperty) : e.keyword === 'required' ? String(e.params.missingProperty) : undefined;
    const field = [...path, ...(named !== undefined ? [named] : [])].join('.');
    const top = (path[0] ?? named)!;
    const what =
      e.keyword === 'required' ? `${field} is required` : e.keyword === 'additionalProperties' ? `unknown setting "${field}"` : `${field} ${e.message}`;
    const where = origin.has(`${path[0]}.${path[1]}`) ? locate(`${path[0]}.${path[1]}`, path, undefined, field) : locate(top, path, e.keyword === 'additionalProperties' ? named : undefined, field);
    throw configError(what, where, 'see schemas/agent-config.schema.json for every setting and its default');
  }
  for (const key of ENTRYPOINTS) {
    const text = (merged.entrypoints as AgentConfig['entrypoints'])[key];
    const port = text === undefined ? 1 : parseAddress(text).port;
    if (port < 1 || port > 65535) throw configError(`entrypoints.${key} port ${port} is not between 1 and 65535`, locate(`entrypoints.${key}`, ['entrypoints', key], undefined, `entrypoints.${key}`), 'e.g. 127.0.0.1:8443');
  }
  // `branch` is the older name of `ref`: one of them, or both saying the same.
  if (merged.ref !== undefined && merged.branch !== undefined && merged.ref !== merged.branch) {
    throw configError(`ref "${String(merged.ref)}" and branch "${String(merged.branch)}" disagree`, locate('branch', ['branch'], undefined, 'branch'), 'give one of them: branch is the older name of ref');
  }
  merged.ref ??= merged.branch ?? 'main';
  delete merged.branch;
  let followed: GitRef;
  try {
    followed = parseRef(merged.ref as string, merged.semver as string | undefined);
  } catch (e) {
    const err = e as SwitchyardError;
    const field = err.location?.field === 'semver' ? 'semver' : 'ref';
    throw configError(err.message, locate(field, [field], undefined, field), err.hint ?? '');
  }
  const verify = merged.verify as AgentConfig['verify'];
  if (verify && !verify.allowedSigners && !verify.gpgKeys) throw configError('verify lists no keys', locate('verify', ['verify'], undefined, 'verify'), 'set verify.allowedSigners (SSH), verify.gpgKeys (OpenPGP) or both');
  for (const key of ['repoAuth', 'pushAuth'] as const) {
    const auth = merged[key] as RepoAuth | undefined;
    if (auth && !auth.tokenFile === !auth.passwordFile) throw configError(`${key} needs one of tokenFile and passwordFile`, locate(key, [key], undefined, key), 'tokenFile for a deploy token; usernameFile (or username) with passwordFile for a password');
  }
  if (verify?.mode === 'tag' && followed.kind !== 'tag' && followed.kind !== 'semver') {
    throw configError(`verify.mode "tag" needs a tag to follow, and ref is ${describeRef(followed)}`, locate('verify', ['verify', 'mode'], undefined, 'verify.mode'), 'set ref: refs/tags/NAME or semver, or use mode: head');
  }
  const problem = typeof merged.schedule === 'string' ? cronProblem(merged.schedule) : undefined;
  if (problem) throw configError(problem, locate('schedule', ['schedule'], undefined, 'schedule'), 'five or six fields, e.g. "*/2 * * * *" (every two minutes)');
  return deepFreeze(merged as unknown as AgentConfig);

  /** Where a setting was given: a file line, an env var, a flag, or (when nowhere) all three. */
  function locate(top: string, path: string[], key: string | undefined, field: string): Location {
    const from = origin.get(top);
    if (from === 'file' && fileLocator) return { ...(key !== undefined ? fileLocator.key(path, key) : fileLocator.value(path)), field };
    // An entrypoint given as a flag or env var is named by its own: --http, SWITCHYARD_HTTPS.
    const own = (top.startsWith('entrypoints.') ? top.slice('entrypoints.'.length) : top) as Key;
    if (from === 'env') return { field: envName(own) };
    if (from === 'flag') return { field: flagName(own) };
    return { field: `${flagName(top as Key)} (or ${envName(top as Key)}, or "${top}" in --config)` };
  }
}

function configError(message: string, location: Location, hint: string): SwitchyardError {
  return new SwitchyardError('UsageError', message, { location, hint });
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Why an expression is not a schedule (node-cron's syntax), or undefined when it is one. */
export function cronProblem(expression: string): string | undefined {
  return cron.validate(expression) ? undefined : `"${expression}" is not a cron expression`;
}

/** Where the data plane serves apps, from the config: each app's own port's address and the shared ports. */
export function entrypointsOf(config: Pick<AgentConfig, 'listenHost' | 'entrypoints'>): Entrypoints {
  const { http, https } = config.entrypoints;
  return { listenHost: config.listenHost, ...(http ? { http: parseAddress(http) } : {}), ...(https ? { https: parseAddress(https) } : {}) };
}

/** ADDR:PORT as the schema accepts it (an IPv6 address in brackets), as an address to bind. */
export function parseAddress(text: string): { host: string; port: number } {
  const [, host, port] = /^\[?(.+?)\]?:(\d+)$/.exec(text)!;
  return { host: host!, port: Number(port) };
}
