// Smoke checks, between the health gate and the flip. The new color's targets are put behind the app's
// preview route first (the active color still takes every ordinary request, the canary and the rules
// are left out of it), and each check is sent through the data plane with the preview header, so the
// request takes the path a real one will (host names, TLS, prefixes, limits). The first check that fails
// puts the route back as it was and stops the flip: no user request has reached the new color. With no
// route yet (a first deploy), the checks go to one of the new targets directly: nothing is public yet.
import { DEFAULTS, type AppSpec, type CheckSpec, type Color } from '../core/app.js';
import type { CheckResult, CheckTarget } from '../core/checker.js';
import { errorMessage, formatLocation } from '../core/errors.js';
import type { AppRoute, Entrypoints } from '../core/route.js';
import type { LiveTarget } from '../core/target.js';
import { routeTarget } from '../plan/plan.js';
import type { ExecutorDeps, Failure } from './deps.js';
import { failed, failure } from './failure.js';

export async function runChecks(app: AppSpec, current: AppRoute | undefined, color: Color, targets: readonly LiveTarget[], deps: ExecutorDeps): Promise<Failure | undefined> {
  const { checker, router, log } = deps;
  if (!app.checks.length || !checker) return undefined;
  let target: CheckTarget;
  if (current) {
    const preview = app.routing.preview ?? DEFAULTS.preview;
    const route: AppRoute = { ...current, targets: [...current.targets.filter((t) => t.color === current.color), ...targets.filter((t) => t.address).map(routeTarget)], routing: { preview, rules: [] } };
    try {
      await router.apply(route);
    } catch (e) {
      return failure(e, 'RouteFailed');
    }
    target = throughDataPlane(route, color, deps.entrypoints);
  } else {
    const first = targets.find((t) => t.address);
    if (!first) return undefined;
    target = { host: first.address!.host, port: first.address!.port, pathPrefix: '/', headers: app.edge.hosts[0] ? { host: hostName(app.edge.hosts[0]) } : {} };
  }
  for (const [i, check] of app.checks.entries()) {
    const result = await checker.check(target, check);
    if (result.ok) continue;
    if (current) await router.apply(current).catch((e: unknown) => log.error({ app: app.name, err: errorMessage(e) }, 'cannot put the route back after a failed check'));
    return failed('ChecksFailed', describeFailure(i, check, color, result));
  }
  log.info({ app: app.name, color, checks: app.checks.length }, 'smoke checks passed');
  return undefined;
}

function describeFailure(i: number, check: CheckSpec, color: Color, result: CheckResult): string {
  const where = check.location ? ` (${formatLocation({ file: check.location.file, line: check.location.line })})` : '';
  const body = result.excerpt ? `; body: ${JSON.stringify(result.excerpt)}` : '';
  return `check ${i + 1}${where} ${check.method} ${check.path} on ${color}: ${result.why ?? 'failed'}${body}; the flip did not happen`;
}

/**
 * Where a request of this app reaches the data plane: its preview port, its own port, or its host name
 * on the shared TLS or plain-HTTP port; the preview header picks the new color on all of them.
 */
function throughDataPlane(route: AppRoute, color: Color, at: Entrypoints): CheckTarget {
  const preview = route.routing!.preview!;
  const headers = { [preview.header]: color };
  const local = (host: string) => (host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host);
  if (preview.port !== undefined) return { host: local(at.listenHost), port: preview.port, pathPrefix: '/', headers };
  if (route.listen) return { host: local(route.listen.host), port: route.listen.port, pathPrefix: '/', headers };
  const hosts = route.hosts!;
  const name = hostName(hosts.names[0]!);
  const over = hosts.tls && hosts.https ? hosts.https : (hosts.http ?? hosts.https!);
  return { host: local(over.host), port: over.port, pathPrefix: hosts.pathPrefix, headers: { ...headers, host: name }, ...(over === hosts.https && hosts.tls ? { tls: { servername: name } } : {}) };
}

/** A name a request can carry: a wildcard's own label stands in for any. */
function hostName(name: string): string {
  return name.startsWith('*.') ? `switchyard-check.${name.slice(2)}` : name;
}
