// `switchyard plan`: what applying a ref would do to this host, per app, changing nothing. It runs the
// agent's own steps up to plan (reconciler/preview.ts), with the guards the agent applies: suspended apps,
// commits that failed and are not retried, unreadable env files, the empty-prune guard. Exit codes: 0 no
// changes, 2 changes, 1 error (like terraform's -detailed-exitcode), so PR CI can tell them apart.
import { FileFailedCommits } from '../adapters/files/failed-commits.js';
import { FileSecretReader } from '../adapters/files/secrets.js';
import { hostKey } from '../adapters/files/host-key.js';
import { FileSuspensions } from '../adapters/files/suspensions.js';
import { targetRuntime } from './runtime.js';
import { parseRef } from '../core/git-ref.js';
import { agentSource, verifyPolicy } from './source.js';
import { haproxyPaths, HaproxyRouter } from '../adapters/haproxy/haproxy-router.js';
import { controlAnswers } from '../adapters/dataplane/proxy-control.js';
import { proxyFiles } from '../adapters/dataplane/proxy-files.js';
import { RemoteRouter } from '../adapters/dataplane/remote-router.js';
import { systemClock } from '../core/clock.js';
import { SwitchyardError } from '../core/errors.js';
import type { AppRoute } from '../core/route.js';
import { entrypointsOf, type AgentConfig } from '../config/agent-config.js';
import { preview } from '../reconciler/preview.js';
import { readConfig } from './config-flags.js';
import { planReport, renderPlan } from './plan-report.js';
import { FORMATS, githubAnnotation, problemRecord, type Format } from './problems.js';
import { agentHost } from './host-view.js';
import { stateFiles } from './state-files.js';
import { StoredCertificates } from '../adapters/acme/acme-issuer.js';

export async function showPlan(args: string[]): Promise<number> {
  const { config, values } = readConfig('plan', args, { ref: { type: 'string' }, format: { type: 'string', default: 'text' } });
  const format = (values.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) throw new SwitchyardError('UsageError', `--format "${format}" is not a format`, { hint: `one of ${FORMATS.join(', ')}` });
  const ref = values.ref as string | undefined;
  // The ref is fetched as the agent fetches its own (a commit id too), with the agent's credentials.
  const source = agentSource(config, { plan: true, ...(ref !== undefined ? { ref: parseRef(ref, undefined, '--ref') } : {}) });
  const snapshot = await source.latest();
  const verify = verifyPolicy(config);

  const files = stateFiles(config.stateDir, config.instance);
  // The agent's own key, so that env files and certificates hash as they do in the agent (none yet: the agent never ran here).
  const key = await hostKey(files.hashKey, { create: false });
  const result = await preview(snapshot, {
    source,
    ...(verify ? { verify } : {}),
    policy: config.policy,
    secrets: new FileSecretReader(config.policy.envFilePaths, key),
    certificates: new FileSecretReader(config.policy.certPaths, key),
    // The ACME pairs the agent stored, read only: an app it serves over TLS is planned as served so.
    ...(config.acme ? { acme: new StoredCertificates(files.acme, systemClock) } : {}),
    runtime: targetRuntime(config),
    router: { routes: () => currentRoutes(config) },
    suspensions: new FileSuspensions(files.suspensions),
    failedCommits: new FileFailedCommits(files.failedCommits),
    entrypoints: entrypointsOf(config),
    clock: systemClock,
    host: agentHost(config),
  });
  if (!result.ok) {
    if (format === 'json') process.stdout.write(`${JSON.stringify({ commit: snapshot.commit, ok: false, errors: result.errors.map((e) => problemRecord(e)) }, null, 2)}\n`);
    else for (const e of result.errors) process.stdout.write(`${format === 'github' ? githubAnnotation(e) : e.toString()}\n`);
    process.stderr.write(`commit ${snapshot.commit.slice(0, 12)} would be refused: ${result.errors.length} error(s); nothing live would change.\n`);
    return 1;
  }
  const report = { ...planReport(result.decision), ...(result.signer ? { signer: result.signer } : {}) };
  process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderPlan(report, source.description));
  return report.changes ? 2 : 0;
}

/** The routes the data plane serves now, read without starting or changing anything. */
async function currentRoutes(config: Readonly<AgentConfig>): Promise<AppRoute[]> {
  if (config.router === 'haproxy') return new HaproxyRouter(haproxyPaths(config.stateDir, config.instance), systemClock).routes();
  const { socket } = proxyFiles(config.stateDir, config.instance);
  return (await controlAnswers(socket)) ? new RemoteRouter(socket).routes() : [];
}
