// Prometheus metrics (prom-client) at GET /metrics. The agent reports events through the small
// Observer interface; what the status and the data plane already know is read at scrape time.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import { COLORS } from '../core/app.js';
import type { ColorCounters, Traffic } from '../core/route.js';
import type { Observer } from '../core/observer.js';
import type { AgentStatus } from '../core/status.js';

export class Metrics implements Observer {
  readonly registry = new Registry();
  private readonly passes: Counter;
  private readonly passErrors: Counter;
  private readonly passDuration: Histogram;
  private readonly fetchDuration: Histogram;
  private readonly flipDuration: Histogram;
  private readonly probes: Counter;
  private readonly stopped: Counter;
  private readonly statusFailures: Counter;
  private readonly requests: Counter;
  private readonly errors5xx: Counter;
  private readonly refused: Counter;
  /** The data plane's own totals last seen, so that our counters only ever add the difference. */
  private readonly seen = new Map<string, ColorCounters>();

  constructor(
    private readonly status: () => AgentStatus,
    private readonly traffic: () => Promise<Traffic>,
    private readonly clock: Clock,
  ) {
    const registers = [this.registry];
    // The agent's own process: memory (RSS, heap), CPU, event-loop lag, open handles.
    collectDefaultMetrics({ register: this.registry });
    this.passes = new Counter({ name: 'switchyard_reconcile_total', help: 'Reconcile passes.', registers });
    this.passErrors = new Counter({ name: 'switchyard_reconcile_errors_total', help: 'Reconcile passes that failed (fetch, Docker, env files).', registers });
    this.passDuration = new Histogram({ name: 'switchyard_reconcile_duration_seconds', help: 'Duration of a reconcile pass.', buckets: [0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300], registers });
    // A pass that changes nothing is mostly this: how far the source is, and how it answers.
    this.fetchDuration = new Histogram({ name: 'switchyard_fetch_duration_seconds', help: 'Time the source took to answer: its newest commit, and the commit itself when it is new.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30], registers });
    this.flipDuration = new Histogram({ name: 'switchyard_flip_duration_seconds', help: 'Time to apply a change to an app: bring-up, health gate, switch.', labelNames: ['app', 'result'], buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300], registers });
    this.statusFailures = new Counter({ name: 'switchyard_commit_status_failures_total', help: 'Commit statuses the agent gave up posting to a forge (after its retries, or refused for good).', labelNames: ['forge'], registers });
    this.stopped = new Counter({ name: 'switchyard_promotions_stopped_total', help: 'Promotions stopped: by a failed smoke check before the flip (ChecksFailed), or by the guard, which flipped back (GuardFailed).', labelNames: ['app', 'reason'], registers });
    const degraded = new Gauge({ name: 'switchyard_app_degraded', help: '1 while live differs from git: the guard flipped back and git still asks for the other color.', labelNames: ['app'], registers });
    this.probes = new Counter({ name: 'switchyard_health_checks_total', help: 'Health probes of targets by result.', labelNames: ['result'], registers });
    this.requests = new Counter({ name: 'switchyard_proxy_requests_total', help: 'Requests the data plane sent to each color.', labelNames: ['app', 'color'], registers });
    this.errors5xx = new Counter({ name: 'switchyard_proxy_responses_5xx_total', help: '5xx answers per color.', labelNames: ['app', 'color'], registers });
    this.refused = new Counter({ name: 'switchyard_proxy_refused_total', help: 'Requests per color the data plane answered itself because of one of the app\'s limits: maxRequestBody (413) or requestTimeout (504).', labelNames: ['app', 'color', 'limit'], registers });
    const inFlight = new Gauge({ name: 'switchyard_proxy_in_flight', help: 'Requests in flight per color.', labelNames: ['app', 'color'], registers });
    const lastHit = new Gauge({ name: 'switchyard_proxy_last_hit_timestamp_seconds', help: 'When a color last took a request.', labelNames: ['app', 'color'], registers });
    const ejected = new Gauge({ name: 'switchyard_proxy_ejected_targets', help: 'Targets per color the data plane took out of rotation after failing to reach them (passive health; embedded proxy).', labelNames: ['app', 'color'], registers });
    const active = new Gauge({ name: 'switchyard_app_active_color', help: '1 for the color that takes traffic.', labelNames: ['app', 'color'], registers });
    const ready = new Gauge({ name: 'switchyard_app_ready', help: '1 when the app is Ready.', labelNames: ['app'], registers });
    const applied = new Gauge({ name: 'switchyard_app_last_applied_info', help: 'The last applied revision (value 1).', labelNames: ['app', 'revision'], registers });
    const attempted = new Gauge({ name: 'switchyard_app_last_failed_info', help: 'The last revision that failed to apply (value 1).', labelNames: ['app', 'revision', 'reason'], registers });
    const restarts = new Gauge({ name: 'switchyard_target_restarts', help: "Restarts by Docker's restart policy of a target that is crash-looping.", labelNames: ['app', 'color', 'replica'], registers });
    const certExpiry = new Gauge({ name: 'switchyard_certificate_expiry_timestamp_seconds', help: "When each TLS app's certificate in use expires (absent while it has none).", labelNames: ['app', 'source'], registers });
    const certFailing = new Gauge({ name: 'switchyard_certificate_failing', help: "1 while a TLS app's certificate cannot be used or obtained (CertificateFailed).", labelNames: ['app'], registers });
    const stale = new Gauge({ name: 'switchyard_stale', help: '1 when no pass has succeeded for too long.', registers });
    const lastSuccess = new Gauge({ name: 'switchyard_last_success_timestamp_seconds', help: 'When a pass last succeeded.', registers });
    const running = new Gauge({ name: 'switchyard_pass_running_seconds', help: 'How long the pass in progress has been running (0 between passes).', registers });

    // Gauges from the status, counters from the data plane: refreshed on each scrape.
    const collect = async () => {
      const s = this.status();
      const traffic: Traffic = await this.traffic().catch(() => ({}));
      for (const g of [active, ready, applied, attempted, restarts, certExpiry, certFailing, degraded]) g.reset();
      stale.set(s.stale ? 1 : 0);
      if (s.lastSuccessAt) lastSuccess.set(s.lastSuccessAt / 1000);
      running.set(s.passRunningSince === undefined ? 0 : (this.clock.now() - s.passRunningSince) / 1000);
      for (const app of Object.values(s.apps)) {
        for (const c of COLORS) active.set({ app: app.name, color: c }, app.activeColor === c ? 1 : 0);
        degraded.set({ app: app.name }, app.conditions.some((c) => c.type === 'Degraded' && c.status === 'True') ? 1 : 0);
        const r = app.conditions.find((c) => c.type === 'Ready');
        ready.set({ app: app.name }, r?.status === 'True' ? 1 : 0);
        if (app.lastAppliedCommit) applied.set({ app: app.name, revision: app.lastAppliedCommit }, 1);
        if (app.certificate?.notAfter !== undefined) certExpiry.set({ app: app.name, source: app.certificate.source }, app.certificate.notAfter / 1000);
        if (app.certificate) certFailing.set({ app: app.name }, app.certificate.error ? 1 : 0);
        if (r?.status === 'False' && app.lastAttemptedCommit && app.lastAttemptedCommit !== app.lastAppliedCommit) {
          attempted.set({ app: app.name, revision: app.lastAttemptedCommit, reason: r.reason }, 1);
        }
        for (const c of COLORS) {
          for (const t of app.targets[c]) if (t.restarts !== undefined) restarts.set({ app: app.name, color: c, replica: String(t.replica) }, t.restarts);
        }
        const counters = traffic[app.name] ?? {};
        for (const c of COLORS) {
          const now = counters[c];
          if (!now) continue;
          const key = `${app.name}/${c}`;
          const before = this.seen.get(key);
          // A restarted data plane counts from zero again: then all of its count is new.
          const add = (field: 'requests' | 'errors5xx' | 'tooLarge' | 'timedOut') => {
            const [was, is] = [before?.[field] ?? 0, now[field] ?? 0];
            return before && is >= was ? is - was : is;
          };
          this.requests.inc({ app: app.name, color: c }, add('requests'));
          this.errors5xx.inc({ app: app.name, color: c }, add('errors5xx'));
          this.refused.inc({ app: app.name, color: c, limit: 'maxRequestBody' }, add('tooLarge'));
          this.refused.inc({ app: app.name, color: c, limit: 'requestTimeout' }, add('timedOut'));
          this.seen.set(key, now);
          inFlight.set({ app: app.name, color: c }, now.inFlight);
          ejected.set({ app: app.name, color: c }, now.ejected?.length ?? 0);
          if (now.lastHit) lastHit.set({ app: app.name, color: c }, now.lastHit / 1000);
        }
      }
    };
    this.refresh = collect;
    // The data plane's own latency buckets, exported as they are: a histogram prom-client cannot observe.
    this.registry.registerMetric({
      name: 'switchyard_proxy_request_duration_seconds',
      help: 'Time the data plane took to answer, per color (embedded proxy).',
      type: 'histogram',
      aggregator: 'sum',
      collect: () => undefined,
      get: async () => ({
        name: 'switchyard_proxy_request_duration_seconds',
        help: 'Time the data plane took to answer, per color (embedded proxy).',
        type: 'histogram',
        aggregator: 'sum',
        values: [...this.seen].flatMap(([key, c]) => {
          const [app, color] = key.split('/');
          const h = c.latency;
          if (!h) return [];
          const labels = { app, color };
          const metric = 'switchyard_proxy_request_duration_seconds';
          return [
            ...h.bucketsMs.map((le, i) => ({ metricName: `${metric}_bucket`, labels: { ...labels, le: le / 1000 }, value: h.counts[i]! })),
            { metricName: `${metric}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count },
            { metricName: `${metric}_sum`, labels, value: h.sumMs / 1000 },
            { metricName: `${metric}_count`, labels, value: h.count },
          ];
        }),
      }),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  private readonly refresh: () => Promise<void>;

  async scrape(): Promise<{ contentType: string; body: string }> {
    await this.refresh();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  fetched(durationMs: number): void {
    this.fetchDuration.observe(durationMs / 1000);
  }

  pass(durationMs: number, ok: boolean): void {
    this.passes.inc();
    if (!ok) this.passErrors.inc();
    this.passDuration.observe(durationMs / 1000);
  }

  flip(app: string, durationMs: number, ok: boolean): void {
    this.flipDuration.observe({ app, result: ok ? 'applied' : 'failed' }, durationMs / 1000);
  }

  statusGivenUp(forge: string): void {
    this.statusFailures.inc({ forge });
  }

  promotionStopped(app: string, reason: 'ChecksFailed' | 'GuardFailed'): void {
    this.stopped.inc({ app, reason });
  }

  probe(ok: boolean): void {
    this.probes.inc({ result: ok ? 'pass' : 'fail' });
  }
}
