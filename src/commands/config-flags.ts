// The agent's settings as flags (the same for every verb that needs them), merged with SWITCHYARD_* env
// vars and the optional --config file into one validated, frozen record.
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { loadAgentConfig, type AgentConfig } from '../config/agent-config.js';
import { SwitchyardError } from '../core/errors.js';
import { parseFlags } from './flags.js';

const AGENT_FLAGS = {
  config: { type: 'string' },
  repo: { type: 'string' },
  ref: { type: 'string' },
  branch: { type: 'string' },
  semver: { type: 'string' },
  path: { type: 'string' },
  interval: { type: 'string' },
  schedule: { type: 'string' },
  instance: { type: 'string' },
  'listen-host': { type: 'string' },
  http: { type: 'string' },
  https: { type: 'string' },
  api: { type: 'string' },
  'state-dir': { type: 'string' },
  router: { type: 'string' },
  runtime: { type: 'string' },
  'log-level': { type: 'string' },
} as const;

/** A verb's own flag that shares an agent flag's name (plan's --ref: the ref to plan) is the verb's, not the config's. */
export function readConfig<T extends NonNullable<ParseArgsConfig['options']>>(verb: string, args: string[], extra?: T) {
  const { values } = parseFlags(verb, args, { ...AGENT_FLAGS, ...(extra ?? {}) });
  const v = values as Record<string, string | boolean | undefined>;
  const own = (key: string) => (extra && key in extra ? undefined : v[key]);
  const flags = Object.fromEntries(
    Object.entries({ repo: v.repo, ref: own('ref'), branch: v.branch, semver: v.semver, path: v.path, interval: v.interval, schedule: v.schedule, instance: v.instance, listenHost: v['listen-host'], api: v.api, stateDir: v['state-dir'], router: v.router, runtime: v.runtime, logLevel: v['log-level'], http: v.http, https: v.https })
      .filter(([, x]) => x !== undefined),
  ) as Record<string, string>;
  let file: { path: string; text: string } | undefined;
  const configPath = v.config as string | undefined;
  if (configPath) {
    try {
      file = { path: configPath, text: readFileSync(configPath, 'utf8') };
    } catch (e) {
      throw new SwitchyardError('UsageError', `cannot read --config ${configPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'pass the path of a readable YAML file' });
    }
  }
  const config: Readonly<AgentConfig> = loadAgentConfig({ flags, env: process.env, ...(file ? { file } : {}) });
  return { config, values: v };
}
