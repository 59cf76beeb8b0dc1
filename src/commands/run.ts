// `switchyard run`: loads and freezes the agent config, wires the real side effects together, and runs
// the loop until SIGINT/SIGTERM. The data plane and the containers keep running when the agent stops;
// the next start adopts them.
import { join } from 'node:path';
import { Agent } from '../reconciler/agent.js';
import { SupervisedRouter } from '../reconciler/data-plane.js';
import { startApi } from '../api/api.js';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isLoopback } from '../api/api.js';
import { FileJournal } from '../adapters/files/journal.js';
import { Metrics } from '../api/metrics.js';
import { cronSchedule } from '../reconciler/schedule.js';
import { FileSuspensions } from '../adapters/files/suspensions.js';
import { FileFailedCommits } from '../adapters/files/failed-commits.js';
import { FileLastGood } from '../adapters/files/last-good.js';
import { StatusStore } from '../reconciler/status-store.js';
import { systemClock, type Clock } from '../core/clock.js';
import { entrypointsOf, type AgentConfig } from '../config/agent-config.js';
import { mountProblem } from '../policy/policy.js';
import { FileSecretReader } from '../adapters/files/secrets.js';
import { hostKey } from '../adapters/files/host-key.js';
import { realHost } from '../adapters/files/host-view.js';
import { parseDuration } from '../core/duration.js';
import { ownerOnly } from './owner-only.js';
import { errorMessage, SwitchyardError } from '../core/errors.js';
import { healthProber } from '../adapters/probe/http-prober.js';
import { httpChecker } from '../adapters/probe/http-checker.js';
import type { Prober } from '../core/prober.js';
import { createLogger, type Logger } from '../core/log.js';
import { HaproxyRouter, haproxyPaths } from '../adapters/haproxy/haproxy-router.js';
import { ensureProxy } from '../adapters/dataplane/proxy-launcher.js';
import { RemoteRouter } from '../adapters/dataplane/remote-router.js';
import type { Router } from '../core/route.js';
import type { ChallengeResponder } from '../core/certificates.js';
import { AcmeIssuer } from '../adapters/acme/acme-issuer.js';
import { acmeOrder, newAccountKey } from '../adapters/acme/acme-order.js';
import { SwarmRuntime } from '../adapters/docker/swarm/swarm-runtime.js';
import { targetRuntime } from './runtime.js';
import { dashboardFiles } from './dashboard-files.js';
import { agentNotes, agentReverter, agentSource, forgesOf, verifyPolicy } from './source.js';
import { ForgeReporter } from '../adapters/forge/commit-status.js';
import type { CommitReporter } from '../core/commit-status.js';
import { readConfig } from './config-flags.js';
import { agentHost } from './host-view.js';
import { stateFiles } from './state-files.js';

export async function runAgent(args: string[]): Promise<number> {
  const { config } = readConfig('run', args);
  const intervalMs = parseDuration(config.interval)!;
  if (intervalMs < 100) throw new SwitchyardError('UsageError', `interval "${config.interval}" is shorter than 100ms`, { hint: 'e.g. --interval 5s' });
  const [, apiHost, apiPort] = /^(.+):(\d+)$/.exec(config.api)!;

  ownerOnly(config.stateDir);
  const files = stateFiles(config.stateDir, config.instance);
  // Refuse a bad API setup before anything starts.
  const token = await apiToken(config, apiHost!);
  const log = createLogger({ level: config.logLevel });
  const clock = systemClock;
  const source = agentSource(config);
  const verify = verifyPolicy(config);
  const reverter = agentReverter(config);
  const forges = forgesOf(config);
  const runtime = targetRuntime(config, {
    credentials: config.registries,
    readContext: (commit, dir) => source.folder(commit, dir),
    externalVolumes: config.policy.externalVolumes,
    buildNetwork: config.policy.buildNetwork,
    beforeCreate: (spec) => {
      const denied = mountProblem(spec, config.policy, realHost);
      if (denied) throw denied;
    },
  });
  // On a swarm the agent must run on a manager: said once, at start, rather than at every pass.
  if (runtime instanceof SwarmRuntime) await runtime.ensureManager();
  // The data plane is its own process (the embedded proxy, or HAProxy): adopt the one that runs, or
  // start it. Either way it outlives this agent; one found gone later is started again (supervised).
  let agent: Agent | undefined;
  const dataPlane = await startRouter(config, clock, log, (why) => agent?.dataPlaneRestarted(why));
  const router = dataPlane.router;
  const status = new StatusStore(config.instance, source.description, clock);
  const journal = new FileJournal(files.journal);
  const metrics = new Metrics(() => status.snapshot(), () => router.traffic(), clock);
  const prober: Prober = {
    probe: async (address, health) => {
      const result = await healthProber.probe(address, health);
      metrics.probe(result.ok);
      return result;
    },
  };
  const key = await hostKey(files.hashKey, { create: true });
  const acme = config.acme && dataPlane.challenges ? await acmeIssuer(config, dataPlane.challenges, clock, log, () => agent?.trigger()) : undefined;
  const notes = agentNotes(config, log, () => metrics.statusGivenUp('git-notes'));
  const reporters: CommitReporter[] = [...forges.map((f) => new ForgeReporter(f, log, () => metrics.statusGivenUp(f.kind))), ...(notes ? [notes] : [])];
  agent = new Agent({
    source,
    ...(verify ? { verify } : {}),
    status,
    lastGood: new FileLastGood(files.lastGood),
    journal,
    secrets: new FileSecretReader(config.policy.envFilePaths, key),
    certificates: new FileSecretReader(config.policy.certPaths, key),
    ...(acme ? { acme } : {}),
    policy: config.policy,
    runtime,
    router,
    prober,
    checker: httpChecker,
    ...(reverter ? { reverter } : {}),
    clock,
    log,
    entrypoints: entrypointsOf(config),
    host: agentHost(config),
    suspensions: new FileSuspensions(files.suspensions),
    failedCommits: new FileFailedCommits(files.failedCommits),
    staleAfter: config.staleAfter,
    observer: metrics,
    ...(reporters.length ? { reporter: fanOut(reporters) } : {}),
    ...(config.notifyUrl ? { notify: webhookNotifier(config.notifyUrl, config.instance, log) } : {}),
  });
  const { server, url } = await startApi(
    {
      status: () => agent.liveStatus(),
      history: (filter) => journal.read(filter),
      sync: () => agent.sync(),
      suspend: (app) => agent.suspend(app),
      resume: (app) => agent.resume(app),
      pushed: (provider) => {
        log.info({ provider }, 'push webhook: fetching now');
        agent.trigger();
      },
      metrics: () => metrics.scrape(),
    },
    { host: apiHost!, port: Number(apiPort), token, allowedHosts: config.apiAllowedHosts, dashboard: dashboardFiles(), ...(config.webhookSecret ? { webhookSecret: config.webhookSecret } : {}) },
  );
  log.info({ url, source: source.description, instance: config.instance, intervalMs, router: config.router, proxyAdopted: dataPlane.adopted }, 'switchyard agent started');

  const stop = new AbortController();
  const onSignal = (sig: string) => {
    if (stop.signal.aborted) {
      log.warn('second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal: sig }, 'stopping: finishing the current pass; containers and the data plane keep running');
    stop.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const schedule = config.schedule ? cronSchedule(config.schedule, () => agent.trigger()) : undefined;
  if (schedule) log.info({ schedule: config.schedule, periodMs: schedule.periodMs }, 'polling on a cron schedule');
  await agent.run(schedule?.periodMs ?? intervalMs, stop.signal, { pollOnInterval: !schedule });
  schedule?.stop();
  await router.close();
  await new Promise((resolve) => server.close(resolve));
  log.info('stopped');
  return 0;
}

/** The ACME client of this instance: its account key and certificates owner-only in the state dir. */
async function acmeIssuer(config: Readonly<AgentConfig>, challenges: ChallengeResponder, clock: Clock, log: Logger, onIssued: () => void): Promise<AcmeIssuer> {
  const { directory, email, caFile } = config.acme!;
  const dir = stateFiles(config.stateDir, config.instance).acme;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, 'account.key');
  let accountKey = await readFile(keyFile, 'utf8').catch(() => undefined);
  if (!accountKey) {
    accountKey = await newAccountKey();
    await writeFile(keyFile, accountKey, { mode: 0o600 });
  }
  let ca: Buffer | undefined;
  try {
    ca = caFile ? await readFile(caFile) : undefined;
  } catch (e) {
    throw new SwitchyardError('UsageError', `cannot read acme.caFile ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { location: { field: 'acme.caFile' }, hint: 'name a readable PEM file, or remove acme.caFile to trust the system CAs' });
  }
  return new AcmeIssuer({
    dir,
    clock,
    // HTTP-01 needs the shared plain-HTTP port; TLS-ALPN-01 the TLS one, which every TLS app has.
    order: acmeOrder({ directory, email, accountKey, ...(ca ? { ca } : {}) }, challenges, challenges.challengeTypes.filter((t) => t !== 'http-01' || config.entrypoints.http)),
    onIssued: (names) => {
      log.info({ names }, 'certificate issued');
      onIssued();
    },
    onFailed: (names, message, retryAt) => log.warn({ names, reason: 'CertificateFailed', retryAt: new Date(retryAt).toISOString() }, `ACME order failed: ${message}`),
  });
}

async function startRouter(config: Readonly<AgentConfig>, clock: Clock, log: Logger, onRestart: (why: string) => void): Promise<{ router: Router; adopted: boolean; challenges?: ChallengeResponder }> {
  if (config.router === 'haproxy') {
    const haproxy = new HaproxyRouter(haproxyPaths(config.stateDir, config.instance), clock);
    const { adopted } = await haproxy.start();
    return { router: new SupervisedRouter(haproxy, async () => void (await haproxy.start()), onRestart), adopted, challenges: haproxy };
  }
  const start = () => ensureProxy(config.stateDir, config.instance, clock, { trustedProxies: config.trustedProxies, workers: config.proxyWorkers });
  const proxy = await start();
  const running = proxy.info.workers?.length ?? 1;
  if (!proxy.started && running !== config.proxyWorkers) {
    // Changing it means restarting the data plane, which refuses connections meanwhile: the operator's call.
    log.warn({ proxyWorkers: config.proxyWorkers, running, pid: proxy.info.pid }, `the running proxy has ${running} worker(s), not proxyWorkers ${config.proxyWorkers}; it keeps them until it restarts (switchyard proxy --stop --instance ${config.instance}, and the agent starts it again)`);
  }
  return { router: new SupervisedRouter(new RemoteRouter(proxy.socket), async () => void (await start()), onRestart), adopted: !proxy.started, challenges: new RemoteRouter(proxy.socket) };
}

/**
 * The API's bearer token: the configured one, or for a loopback API one generated at first start and
 * kept owner-only in the state dir, where the CLI (same user) finds it. A non-loopback API must be
 * given one explicitly: the agent refuses to start without.
 */
async function apiToken(config: Readonly<AgentConfig>, host: string): Promise<string> {
  if (config.apiToken) return config.apiToken;
  if (!isLoopback(host)) {
    throw new SwitchyardError('UsageError', `the API binds ${host}, not loopback, and has no token`, { hint: 'set apiToken in the config file or SWITCHYARD_API_TOKEN (16+ characters)' });
  }
  const path = stateFiles(config.stateDir, config.instance).apiToken;
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const token = randomBytes(24).toString('base64url');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${token}\n`, { mode: 0o600 });
    return token;
  }
}

/** One reporter that tells every forge. */
function fanOut(reporters: CommitReporter[]): CommitReporter {
  return { report: (s) => reporters.forEach((r) => r.report(s)) };
}

/** POSTs each event as JSON to the configured URL; a failure is logged, never fatal. */
function webhookNotifier(url: string, instance: string, log: Logger): (event: Record<string, unknown>) => void {
  return (event) => {
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instance, at: new Date().toISOString(), ...event }), signal: AbortSignal.timeout(5000) })
      .then((res) => {
        if (!res.ok) log.warn({ status: res.status }, 'notification refused');
      })
      .catch((e) => log.warn({ err: errorMessage(e) }, 'notification failed'));
  };
}
