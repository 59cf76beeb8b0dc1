// The plan: a pure diff of desired state against live state. No I/O, so every case is a table test.
//
// Per app and color, a running target with the current spec hash is kept (one per replica index);
// missing replicas are created; everything else is obsolete. Obsolete targets that serve traffic now
// are retired only after the route has moved off them; the rest are removed at once. The desired route
// is the active color's kept and created targets.
//
// A target Docker is restarting (its process exited; the restart policy brings it back with a backoff
// that doubles from 100 ms up to a minute) still holds its replica: replacing it would reset that backoff
// and turn a crash loop into a create loop. It takes no traffic until it runs and passes the gate again.
// A target whose image's HEALTHCHECK calls it unhealthy is obsolete: Docker does not restart those.
import { COLORS, otherColor, routesStandby, type AppSpec, type Color, type DesiredState, type EdgeSpec } from '../core/app.js';
import { sameRoute, type AppRoute, type Entrypoints, type HostRoute, type RouteTarget } from '../core/route.js';
import type { LiveTarget, TargetSpec } from '../core/target.js';
import { specHash, targetSpec, workerSpec } from './target-spec.js';

export interface LiveState {
  targets: readonly LiveTarget[];
  routes: readonly AppRoute[];
}

export interface AppPlan {
  app: AppSpec;
  commit: string;
  /** The route in force now, if any. */
  currentRoute: AppRoute | undefined;
  /** Running targets with the current spec, per color. */
  keep: Record<Color, LiveTarget[]>;
  /** Targets with the current spec that Docker is restarting (crash-looping): they hold their replica, take no traffic. */
  restarting: LiveTarget[];
  create: TargetSpec[];
  /** Obsolete and not routed: safe to remove before anything else. */
  remove: LiveTarget[];
  /** Obsolete but routed now: drain and remove only after the route has moved. */
  retire: LiveTarget[];
  /** True when the route must change (new targets, other color, moved addresses, new listen port). */
  routeChange: boolean;
  /** The standby color removed because its scaleDownDelay ran out. */
  scaledDown?: Color;
  /** Worker containers: replaced only after the web flip succeeded. */
  workers: { create: TargetSpec[]; remove: LiveTarget[] };
}

export interface PrunePlan {
  app: string;
  targets: LiveTarget[];
  routed: boolean;
  /** How long requests in flight on its targets may take once its route is gone (the route's own; 0 when unrouted). */
  drainTimeoutMs: number;
}

export interface Plan {
  commit: string;
  apps: AppPlan[];
  /** Apps that have live targets or routes but are gone from the desired state. */
  prune: PrunePlan[];
}

/** `now` (epoch ms) is only used to tell whether a standby color's scaleDownDelay has run out. */
export function plan(desired: DesiredState, live: LiveState, at: Entrypoints, now: number): Plan {
  const apps = desired.apps.map((app) => planApp(app, desired.commit, live, at, now));
  const wanted = new Set(desired.apps.map((a) => a.name));
  const orphanNames = new Set([...live.targets.map((t) => t.app), ...live.routes.map((r) => r.app)].filter((n) => !wanted.has(n)));
  const prune = [...orphanNames].sort().map((name) => {
    const route = live.routes.find((r) => r.app === name);
    return { app: name, targets: live.targets.filter((t) => t.app === name), routed: Boolean(route), drainTimeoutMs: route?.drainTimeoutMs ?? 0 };
  });
  return { commit: desired.commit, apps, prune };
}

function planApp(app: AppSpec, commit: string, live: LiveState, at: Entrypoints, now: number): AppPlan {
  const currentRoute = live.routes.find((r) => r.app === app.name);
  const routedIds = new Set(currentRoute?.targets.map((t) => t.id));
  const scaledDown = scaledDownColor(app, currentRoute, now);
  const web = live.targets.filter((t) => t.app === app.name && !t.worker);
  const keep: Record<Color, LiveTarget[]> = { blue: [], green: [] };
  const create: TargetSpec[] = [];
  const obsolete: LiveTarget[] = [];
  const restarting: LiveTarget[] = [];

  for (const color of COLORS) {
    const hash = specHash(app, color);
    const replicas = color === scaledDown ? 0 : app.colors[color].replicas;
    const serves = (t: LiveTarget) => Boolean(t.running && t.address && t.health !== 'unhealthy');
    // When two claim the same replica index, prefer one that serves, then a routed one, so traffic is not
    // moved needlessly.
    const rank = (t: LiveTarget) => Number(serves(t)) * 2 + Number(routedIds.has(t.id));
    const ordered = web.filter((t) => t.color === color).sort((a, b) => rank(b) - rank(a));
    const byReplica = new Map<number, LiveTarget>();
    for (const t of ordered) {
      const current = t.specHash === hash && t.replica < replicas && !byReplica.has(t.replica);
      if (current && serves(t)) keep[color].push(t);
      else if (current && t.state === 'restarting') restarting.push(t);
      else {
        obsolete.push(t);
        continue;
      }
      byReplica.set(t.replica, t);
    }
    keep[color].sort((a, b) => a.replica - b.replica);
    for (let r = 0; r < replicas; r++) if (!byReplica.has(r)) create.push(targetSpec(app, color, r, commit));
  }

  // New targets that will take traffic must pass the gate first, so creating them is a route change.
  const creatingRouted = create.some((s) => s.color === app.active || routesStandby(app));
  const routeChange = creatingRouted || !sameRoute(currentRoute, desiredRoute(app, keep, at));
  return {
    app,
    commit,
    currentRoute,
    keep,
    restarting,
    create,
    remove: obsolete.filter((t) => !routedIds.has(t.id)),
    retire: obsolete.filter((t) => routedIds.has(t.id)),
    routeChange,
    ...(scaledDown ? { scaledDown } : {}),
    workers: planWorkers(app, commit, live.targets.filter((t) => t.app === app.name && t.worker)),
  };
}

/**
 * Per worker, one running container per replica with the current spec; everything else goes. One that
 * Swarm is moving to another node (`moving`) is left to Swarm: it holds its replica.
 */
function planWorkers(app: AppSpec, commit: string, live: readonly LiveTarget[]): AppPlan['workers'] {
  const create: TargetSpec[] = [];
  const keep = new Set<string>();
  for (const w of app.workers) {
    for (let r = 0; r < w.replicas; r++) {
      const spec = workerSpec(app, w, r, commit);
      const found = live.find((t) => t.worker === w.name && t.replica === r && (t.running || t.moving) && t.specHash === spec.specHash && !keep.has(t.id));
      if (found) keep.add(found.id);
      else create.push(spec);
    }
  }
  return { create, remove: live.filter((t) => !keep.has(t.id)) };
}

/**
 * The standby color whose warm-standby time is over: the app has been serving the other color, with
 * nothing routed to this one, for longer than its scaleDownDelay, and never before a guard's window is
 * over (the guard flips back to it). A rollback brings it back up (and gates it) like any missing target.
 */
function scaledDownColor(app: AppSpec, route: AppRoute | undefined, now: number): Color | undefined {
  if (app.scaleDownDelayMs === undefined || !route || route.color !== app.active || routesStandby(app)) return undefined;
  const warm = Math.max(app.scaleDownDelayMs, app.guard?.windowMs ?? 0);
  return now - (route.since ?? now) >= warm ? otherColor(app.active) : undefined;
}

/**
 * The route for these healthy targets: the active color's take ordinary requests; the other color's
 * are included only when the app sends requests to it (preview, canary, rules).
 */
export function desiredRoute(app: AppSpec, healthy: Record<Color, readonly LiveTarget[]>, at: Entrypoints): AppRoute {
  const standby = otherColor(app.active);
  const routed = [...healthy[app.active], ...(routesStandby(app) ? healthy[standby] : [])];
  const { edge } = app;
  const limits = Object.keys(edge.limits).length ? edge.limits : undefined;
  return {
    app: app.name,
    ...(app.listen !== undefined ? { listen: { host: at.listenHost, port: app.listen } } : {}),
    ...(edge.hosts.length ? { hosts: hostRoute(edge, at) } : {}),
    ...(edge.maintenance ? { maintenance: edge.maintenance } : {}),
    ...(limits ? { limits } : {}),
    color: app.active,
    targets: routed.filter((t) => t.address).map(routeTarget),
    drainTimeoutMs: app.drainTimeoutMs,
    ...(routesStandby(app) ? { routing: app.routing } : {}),
  };
}

/**
 * The app's place on the shared entrypoints: over TLS once its certificate has been read (a digest), with
 * plain HTTP then redirecting; until then (or without `tls`), plain HTTP only. An app waiting for its
 * ACME certificate keeps the TLS port open too: a TLS-ALPN-01 challenge is answered there.
 */
function hostRoute(edge: EdgeSpec, at: Entrypoints): HostRoute {
  const tls = typeof edge.tls === 'object' && edge.tls.digest ? { certFile: edge.tls.certFile, keyFile: edge.tls.keyFile, digest: edge.tls.digest } : undefined;
  return {
    names: edge.hosts,
    pathPrefix: edge.pathPrefix,
    stripPrefix: edge.stripPrefix,
    ...(at.http ? { http: at.http } : {}),
    ...(at.https && (tls || edge.tls === 'acme') ? { https: at.https, ...(tls ? { tls } : {}) } : {}),
  };
}

export function routeTarget(t: LiveTarget): RouteTarget {
  return { id: t.id, color: t.color, host: t.address!.host, port: t.address!.port };
}

export function isNoop(p: AppPlan): boolean {
  return p.create.length === 0 && p.remove.length === 0 && p.retire.length === 0 && !p.routeChange && !p.workers.create.length && !p.workers.remove.length;
}

/** One line per change, for logs and `switchyard plan`. */
export function describe(p: AppPlan): string[] {
  const lines: string[] = [];
  const from = p.currentRoute?.color;
  if (p.routeChange && from && from !== p.app.active) lines.push(`flip ${from} -> ${p.app.active}`);
  else if (p.routeChange && !from) lines.push(`route ${p.app.active} ${servedAt(p.app)}`);
  else if (p.routeChange) lines.push(`update ${p.app.active} route`);
  for (const color of COLORS) {
    const n = p.create.filter((s) => s.color === color).length;
    if (n) lines.push(`create ${n} ${color} target(s) (${p.app.colors[color].image})`);
  }
  const retiring = p.scaledDown ? p.remove.filter((t) => t.color === p.scaledDown).length : 0;
  if (retiring) lines.push(`scale down ${p.scaledDown}: ${retiring} target(s) (scaleDownDelay is over)`);
  if (p.remove.length - retiring) lines.push(`remove ${p.remove.length - retiring} obsolete target(s)`);
  if (p.retire.length) lines.push(`retire ${p.retire.length} routed target(s) after the switch`);
  const routedIds = new Set(p.currentRoute?.targets.map((t) => t.id));
  const out = p.restarting.filter((t) => routedIds.has(t.id));
  const moving = out.filter((t) => t.moving).length;
  if (out.length - moving) lines.push(`take ${out.length - moving} crash-looping target(s) out of the route (Docker restarts them)`);
  if (moving) lines.push(`take ${moving} target(s) out of the route while Swarm moves them to another node`);
  const workers = [...new Set([...p.workers.create.map((s) => s.worker), ...p.workers.remove.map((t) => t.worker)])];
  for (const w of workers) {
    const n = p.workers.create.filter((s) => s.worker === w).length;
    const old = p.workers.remove.filter((t) => t.worker === w).length;
    lines.push(`worker ${w}: ${n ? `start ${n}` : ''}${n && old ? ', then ' : ''}${old ? `stop ${old}` : ''}${p.routeChange ? ' after the switch' : ''}`);
  }
  return lines;
}

/** Where an app is served, in words: its port, its host names, or both. */
function servedAt(app: AppSpec): string {
  const where = app.listen !== undefined ? [`on port ${app.listen}`] : [];
  if (app.edge.hosts.length) where.push(`at ${app.edge.hosts.join(', ')}${app.edge.pathPrefix === '/' ? '' : app.edge.pathPrefix}`);
  return where.join(' and ');
}
