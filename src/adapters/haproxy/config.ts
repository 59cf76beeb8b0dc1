// Renders HAProxy's configuration from the route table. Pure. The configuration holds only what
// changes rarely (apps, ports, preview/canary/rules); which color is active and which targets serve
// are set at run time through the runtime API (a map and server slots), so a flip never reloads.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Color } from '../../core/app.js';
import { htmlPage, MAINTENANCE_TITLE } from '../../core/page.js';
import { CANARY_COOKIE, type Address, type AppRoute } from '../../core/route.js';

const ACME_CHALLENGE = '/.well-known/acme-challenge/';

/** Server slots per color and app: replicas above this are refused. */
export const SLOTS = 16;

export interface HaproxyPaths {
  dir: string;
  config: string;
  activeMap: string;
  standbyMap: string;
  adminSocket: string;
  masterSocket: string;
  serverState: string;
  pid: string;
  routes: string;
  /** The shared frontends' host maps (Host and path to app), per kind. */
  hostsHttpMap: string;
  hostsHttpsMap: string;
  /** ACME HTTP-01 answers, token to key authorization (set at run time). */
  challengesMap: string;
  crtList: string;
  /** Each TLS app's bundle (chain and key): `<certs>/<app>.pem`, owner-only. */
  certs: string;
  /** Maintenance pages. */
  pages: string;
}

export const backendName = (app: string, color: Color) => `be_${app}_${color}`;

export function renderConfig(routes: readonly AppRoute[], paths: HaproxyPaths): string {
  const lines = [
    '# Written by Switchyard. Flips happen through the runtime API; edits here are overwritten.',
    'global',
    '  master-worker',
    `  stats socket ${paths.adminSocket} mode 600 level admin expose-fd listeners`,
    `  server-state-file ${paths.serverState}`,
    '  maxconn 4096',
    // An old worker kept alive by a long-lived tunnel after a reload gives up after this.
    '  hard-stop-after 5m',
    '',
    'defaults',
    '  mode http',
    '  load-server-state-from-file global',
    '  option http-keep-alive',
    '  option redispatch',
    // On a reload, idle kept-alive client connections stay open until their next request is answered
    // (then close), instead of being closed under a client that is about to reuse them.
    '  option idle-close-on-response',
    '  retries 2',
    '  retry-on conn-failure empty-response',
    '  http-reuse safe',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 1h',
    '  default-server init-addr none',
    '',
  ];
  const sorted = [...routes].sort((a, b) => a.app.localeCompare(b.app));
  for (const route of sorted) if (route.listen) lines.push(...appFrontend({ ...route, listen: route.listen }, paths));
  const shared = [...sharedFrontend('http', sorted, paths), ...sharedFrontend('https', sorted, paths)];
  if (shared.length) {
    // The maps' entries are part of the file's text: a change of host names is a change of configuration.
    const maps = createHash('sha256').update(hostsMap('http', sorted)).update(hostsMap('https', sorted)).update(crtList(sorted, paths)).digest('hex').slice(0, 16);
    lines.push(`# host maps and crt-list: ${maps}`, ...shared, 'backend be_sy_none', '');
  }
  for (const route of sorted) lines.push(...backendLines(route));
  return `${lines.join('\n')}\n`;
}

/** Per app with a port of its own: its frontend (and its preview port's). */
function appFrontend(route: AppRoute & { listen: Address }, paths: HaproxyPaths): string[] {
  const { app } = route;
  const out = [`frontend fe_${app}`, `  bind ${route.listen.host}:${route.listen.port}`, ...edgeLines(route, paths, ''), ...routingLines(route, paths, ''), ''];
  const standby = `%[str(${app}),map(${paths.standbyMap},${backendName(app, 'green')})]`;
  if (route.routing?.preview?.port) out.push(`frontend fe_${app}_preview`, `  bind ${route.listen.host}:${route.routing.preview.port}`, `  use_backend ${standby}`, '');
  return out;
}

/**
 * Which color a request of this app goes to (`cond` limits the lines to the app on a shared frontend):
 * nothing here depends on which color is active, the maps say that, so a flip never reloads. Rule and
 * canary traffic goes to its color only while that color has a server up; else, like all other
 * traffic, to the active color. A preview is strict: that color or a 503.
 */
function routingLines(route: AppRoute, paths: HaproxyPaths, cond: string): string[] {
  const { app } = route;
  const r = route.routing;
  const be = (c: Color) => backendName(app, c);
  const up = (c: Color) => `{ nbsrv(${be(c)}) gt 0 }`;
  const out: string[] = [];
  for (const rule of r?.rules ?? []) {
    const fetch = rule.header !== undefined ? `req.hdr(${rule.header})` : `req.cook(${rule.cookie})`;
    out.push(`  use_backend ${be(rule.color)} if ${cond}{ ${fetch} -m str ${quote(rule.value)} } ${up(rule.color)}`);
  }
  if (r?.preview) {
    for (const c of ['blue', 'green'] as const) {
      out.push(`  use_backend ${be(c)} if ${cond}{ req.hdr(${r.preview.header}) -i -m str ${c} }`);
      out.push(`  use_backend ${be(c)} if ${cond}{ req.cook(${r.preview.cookie}) -i -m str ${c} }`);
    }
  }
  if (r?.canary && r.canary.weight > 0) {
    if (r.canary.sticky) for (const c of ['blue', 'green'] as const) out.push(`  use_backend ${be(c)} if ${cond}{ req.cook(${CANARY_COOKIE}) -m str ${c} } ${up(c)}`);
    // The draw goes to the color that is not active (read from the active map), when it has a server up.
    out.push(`  http-request set-var(txn.sy_active) str(${app}),map(${paths.activeMap},${be('blue')})${cond ? ` if ${cond.trim()}` : ''}`);
    out.push(`  use_backend ${be('green')} if ${cond}{ var(txn.sy_active) -m str ${be('blue')} } { rand(100) lt ${r.canary.weight} } ${up('green')}`);
    out.push(`  use_backend ${be('blue')} if ${cond}{ var(txn.sy_active) -m str ${be('green')} } { rand(100) lt ${r.canary.weight} } ${up('blue')}`);
  }
  out.push(`  use_backend %[str(${app}),map(${paths.activeMap},${be('blue')})]${cond ? ` if ${cond.trim()}` : ''}`);
  return out;
}

/**
 * What the app's edge asks before a request is routed: the maintenance page (but for a preview request),
 * a body over the limit (by its stated length), the prefix stripped.
 */
function edgeLines(route: AppRoute, paths: HaproxyPaths, cond: string): string[] {
  const out: string[] = [];
  const m = route.maintenance;
  if (m) {
    const p = route.routing?.preview;
    const preview = p ? ` !{ req.hdr(${p.header}) -m found } !{ req.cook(${p.cookie}) -m found }` : '';
    const retry = m.retryAfterS !== undefined ? ` hdr retry-after ${m.retryAfterS}` : '';
    out.push(`  http-request return status 503 content-type "text/html; charset=utf-8" file ${maintenancePage(route, paths).path}${retry} if ${cond}TRUE${preview}`);
  }
  const max = route.limits?.maxRequestBodyBytes;
  if (max !== undefined) out.push(`  http-request deny deny_status 413 if ${cond}{ req.hdr_val(content-length) gt ${max} }`);
  const h = route.hosts;
  if (cond && h?.stripPrefix && h.pathPrefix !== '/') out.push(`  http-request set-path %[path,regsub(^${h.pathPrefix.replace(/\./g, '\\\\.')}/?,/)] if ${cond.trim()}`);
  return out;
}

/** The page file of an app in maintenance: named by its content, so that a new message is a new file (and a reload). */
export function maintenancePage(route: AppRoute, paths: HaproxyPaths): { path: string; html: string } {
  const html = htmlPage(MAINTENANCE_TITLE, route.maintenance?.message ?? '');
  return { path: join(paths.pages, `${route.app}-${createHash('sha256').update(html).digest('hex').slice(0, 12)}.html`), html };
}

/** The shared plain-HTTP or TLS frontend: apps by Host (and SNI) and path prefix, from a map. */
function sharedFrontend(kind: 'http' | 'https', routes: readonly AppRoute[], paths: HaproxyPaths): string[] {
  const served = routes.filter((r) => r.hosts?.[kind] && (kind === 'http' || r.hosts.tls));
  if (!served.length) return [];
  const address = served[0]!.hosts![kind]!;
  const tls = kind === 'https' ? ` ssl crt-list ${paths.crtList} strict-sni alpn http/1.1` : '';
  const map = kind === 'http' ? paths.hostsHttpMap : paths.hostsHttpsMap;
  const out = [`frontend fe_sy_${kind}`, `  bind ${address.host}:${address.port}${tls}`];
  if (kind === 'http') {
    const token = `path,field(4,/),map(${paths.challengesMap})`;
    out.push(`  http-request return status 200 content-type text/plain lf-string "%[${token}]" if { path_beg ${ACME_CHALLENGE} } { ${token} -m found }`);
  }
  out.push(`  http-request set-var(txn.sy_app) base,map_reg(${map})`, '  http-request return status 404 content-type "text/plain; charset=utf-8" lf-string "not found\\n" unless { var(txn.sy_app) -m found }');
  for (const r of [...served].sort((a, b) => a.app.localeCompare(b.app))) {
    const cond = `{ var(txn.sy_app) -m str ${r.app} } `;
    const https = r.hosts!.tls && r.hosts!.https;
    if (kind === 'http' && https) {
      const port = https.port === 443 ? '' : `:${https.port}`;
      out.push(`  http-request redirect location https://%[req.hdr(host),field(1,:),lower]${port}%[capture.req.uri] code 308 if ${cond}!{ path_beg ${ACME_CHALLENGE} }`);
    }
    out.push(...edgeLines(r, paths, cond), ...routingLines(r, paths, cond));
  }
  out.push('  default_backend be_sy_none', '');
  return out;
}

/**
 * The host map of a shared frontend: `base` (Host and path) against one regex per name and prefix, the
 * first match winning, so exact names come before wildcards and longer prefixes before shorter ones.
 */
export function hostsMap(kind: 'http' | 'https', routes: readonly AppRoute[]): string {
  const entries = routes.flatMap((r) => {
    const h = r.hosts;
    if (!h?.[kind] || (kind === 'https' && !h.tls)) return [];
    return h.names.map((name) => ({ app: r.app, wildcard: name.startsWith('*.'), name, prefix: h.pathPrefix }));
  });
  entries.sort((a, b) => Number(a.wildcard) - Number(b.wildcard) || b.prefix.length - a.prefix.length || a.name.localeCompare(b.name));
  return entries
    .map((e) => {
      const host = e.wildcard ? `[^./:]+${escapeRe(e.name.slice(1))}` : escapeRe(e.name);
      const path = e.prefix === '/' ? '/' : `${escapeRe(e.prefix)}(/|$)`;
      return `^(?i:${host})(:[0-9]+)?${path} ${e.app}\n`;
    })
    .join('');
}

/** The crt-list of the TLS frontend: each TLS app's bundle (chain and key) for its names. */
export function crtList(routes: readonly AppRoute[], paths: HaproxyPaths): string {
  return routes
    .filter((r) => r.hosts?.https && r.hosts.tls)
    .sort((a, b) => a.app.localeCompare(b.app))
    .map((r) => `${bundlePath(r.app, paths)} ${r.hosts!.names.join(' ')}\n`)
    .join('');
}

export const bundlePath = (app: string, paths: HaproxyPaths) => join(paths.certs, `${app}.pem`);

function backendLines(route: AppRoute): string[] {
  const out: string[] = [];
  const r = route.routing;
  for (const c of ['blue', 'green'] as const) {
    out.push(`backend ${backendName(route.app, c)}`, '  balance roundrobin');
    // limits.requestTimeout: an answer that has not begun by then is a 504.
    if (route.limits?.requestTimeoutMs !== undefined) out.push(`  timeout server ${route.limits.requestTimeoutMs}ms`);
    if (r?.canary?.sticky && r.canary.weight > 0) {
      out.push(`  http-response add-header Set-Cookie "${CANARY_COOKIE}=${c}; Path=/; HttpOnly; SameSite=Lax" unless { req.cook(${CANARY_COOKIE}) -m found }`);
    }
    for (let i = 0; i < SLOTS; i++) out.push(`  server s${i} 127.0.0.1:1 disabled`);
    out.push('');
  }
  return out;
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The standby map is loaded (and so can be set) only where the configuration uses it. */
export function usesStandbyMap(route: AppRoute): boolean {
  return Boolean(route.routing?.preview?.port);
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}
