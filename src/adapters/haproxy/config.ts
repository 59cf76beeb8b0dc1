// Renders HAProxy's configuration from the route table. Pure. The configuration holds only what
// changes rarely (apps, ports, preview/canary/rules); which color is active and which targets serve
// are set at run time through the runtime API (a map and server slots), so a flip never reloads.
import type { Color } from '../../core/app.js';
import { CANARY_COOKIE, type Address, type AppRoute } from '../../core/route.js';

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
  for (const route of [...routes].sort((a, b) => a.app.localeCompare(b.app))) if (route.listen) lines.push(...renderApp({ ...route, listen: route.listen }, paths));
  return `${lines.join('\n')}\n`;
}

function renderApp(route: AppRoute & { listen: Address }, paths: HaproxyPaths): string[] {
  const { app } = route;
  const r = route.routing;
  const be = (c: Color) => backendName(app, c);
  // Nothing below depends on which color is active: the maps say that, so a flip never reloads.
  const active = `%[str(${app}),map(${paths.activeMap},${be('blue')})]`;
  const standby = `%[str(${app}),map(${paths.standbyMap},${be('green')})]`;
  // Rule and canary traffic goes to its color only while that color has a server up; else, like all
  // other traffic, to the active color. A preview is strict: that color or a 503.
  const up = (c: Color) => `{ nbsrv(${be(c)}) gt 0 }`;
  const out = [`frontend fe_${app}`, `  bind ${route.listen.host}:${route.listen.port}`];
  for (const rule of r?.rules ?? []) {
    const fetch = rule.header !== undefined ? `req.hdr(${rule.header})` : `req.cook(${rule.cookie})`;
    out.push(`  use_backend ${be(rule.color)} if { ${fetch} -m str ${quote(rule.value)} } ${up(rule.color)}`);
  }
  if (r?.preview) {
    for (const c of ['blue', 'green'] as const) {
      out.push(`  use_backend ${be(c)} if { req.hdr(${r.preview.header}) -i -m str ${c} }`);
      out.push(`  use_backend ${be(c)} if { req.cook(${r.preview.cookie}) -i -m str ${c} }`);
    }
  }
  if (r?.canary && r.canary.weight > 0) {
    if (r.canary.sticky) for (const c of ['blue', 'green'] as const) out.push(`  use_backend ${be(c)} if { req.cook(${CANARY_COOKIE}) -m str ${c} } ${up(c)}`);
    // The draw goes to the color that is not active (read from the active map), when it has a server up.
    out.push(`  http-request set-var(txn.sy_active) str(${app}),map(${paths.activeMap},${be('blue')})`);
    out.push(`  use_backend ${be('green')} if { var(txn.sy_active) -m str ${be('blue')} } { rand(100) lt ${r.canary.weight} } ${up('green')}`);
    out.push(`  use_backend ${be('blue')} if { var(txn.sy_active) -m str ${be('green')} } { rand(100) lt ${r.canary.weight} } ${up('blue')}`);
  }
  out.push(`  use_backend ${active}`, '');
  if (r?.preview?.port) out.push(`frontend fe_${app}_preview`, `  bind ${route.listen.host}:${r.preview.port}`, `  use_backend ${standby}`, '');
  for (const c of ['blue', 'green'] as const) {
    out.push(`backend ${be(c)}`, '  balance roundrobin');
    if (r?.canary?.sticky && r.canary.weight > 0) {
      out.push(`  http-response add-header Set-Cookie "${CANARY_COOKIE}=${c}; Path=/; HttpOnly; SameSite=Lax" unless { req.cook(${CANARY_COOKIE}) -m found }`);
    }
    for (let i = 0; i < SLOTS; i++) out.push(`  server s${i} 127.0.0.1:1 disabled`);
    out.push('');
  }
  return out;
}

/** The standby map is loaded (and so can be set) only where the configuration uses it. */
export function usesStandbyMap(route: AppRoute): boolean {
  return Boolean(route.routing?.preview?.port);
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}
