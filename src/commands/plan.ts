// `switchyard plan`: what applying a ref would do to this host, per app, changing nothing. The agent's own
// steps: the snapshot, the loader with the host's policy, env files, the live containers and the data
// plane's routes, the pure plan. Exit codes: 0 no changes, 2 changes, 1 error (like terraform's
// -detailed-exitcode), so PR CI can tell them apart.
import { resolveEnvFiles } from '../desired/env-files.js';
import { FileSecretReader } from '../adapters/files/secrets.js';
import { loadCommit } from '../desired/load-commit.js';
import { SwitchyardError } from '../core/errors.js';
import { plan } from '../plan/plan.js';
import { planReport, renderPlan } from '../plan/render.js';
import { haproxyPaths, HaproxyRouter } from '../adapters/haproxy/haproxy-router.js';
import { controlAnswers } from '../adapters/dataplane/proxy-control.js';
import { proxyFiles } from '../adapters/dataplane/proxy-files.js';
import { RemoteRouter } from '../adapters/dataplane/remote-router.js';
import type { AppRoute } from '../core/route.js';
import { connectDocker, DockerRuntime } from '../adapters/docker/runtime.js';
import { GitSource } from '../adapters/git/git-source.js';
import { systemClock } from '../core/clock.js';
import { join } from 'node:path';
import type { AgentConfig } from '../config/agent-config.js';
import { readConfig } from './config-flags.js';
import { FORMATS, githubAnnotation, problemRecord, type Format } from './problems.js';

const SHA = /^[0-9a-f]{40}$/;

export async function showPlan(args: string[]): Promise<number> {
  const { config, values } = readConfig('plan', args, { ref: { type: 'string' }, format: { type: 'string', default: 'text' } });
  const format = (values.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) throw new SwitchyardError('UsageError', `--format "${format}" is not a format`, { hint: `one of ${FORMATS.join(', ')}` });
  const ref = values.ref as string | undefined;
  // A branch name is fetched like the agent does; a commit id is read from what the source has.
  const source = new GitSource({ repo: config.repo, branch: ref && !SHA.test(ref) ? ref : config.branch, path: config.path, cacheDir: join(config.stateDir, 'git') });
  const tip = await source.latest();
  const snapshot = ref && SHA.test(ref) ? await source.at(ref) : tip;

  const loaded = await loadCommit(snapshot, config.policy, source);
  const withEnv = loaded.ok ? await resolveEnvFiles(loaded.state, new FileSecretReader(config.policy.envFilePaths)) : undefined;
  const resolved = !loaded.ok ? loaded : withEnv!.errors.size ? { ok: false as const, errors: [...withEnv!.errors.values()].flat() } : { ok: true as const, state: withEnv!.state };
  if (!resolved.ok) {
    if (format === 'json') process.stdout.write(`${JSON.stringify({ commit: snapshot.commit, ok: false, errors: resolved.errors.map((e) => problemRecord(e)) }, null, 2)}\n`);
    else for (const e of resolved.errors) process.stdout.write(`${format === 'github' ? githubAnnotation(e) : e.toString()}\n`);
    process.stderr.write(`commit ${snapshot.commit.slice(0, 12)} would be refused: ${resolved.errors.length} error(s); nothing live would change.\n`);
    return 1;
  }
  const live = { targets: await new DockerRuntime(connectDocker(), config.instance).list(), routes: await currentRoutes(config) };
  const report = planReport(plan(resolved.state, live, config.listenHost, systemClock.now()));
  process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderPlan(report, source.description));
  return report.changes ? 2 : 0;
}

/** The routes the data plane serves now, read without starting or changing anything. */
async function currentRoutes(config: Readonly<AgentConfig>): Promise<AppRoute[]> {
  if (config.router === 'haproxy') return new HaproxyRouter(haproxyPaths(config.stateDir, config.instance), systemClock).routes();
  const { socket } = proxyFiles(config.stateDir, config.instance);
  return (await controlAnswers(socket)) ? new RemoteRouter(socket).routes() : [];
}
