// What the schema cannot say about how an app meets requests: valid host names and prefixes, fields
// that only mean something with `hosts`, what this agent's entrypoints and ACME settings allow, and,
// across files, that no two apps claim the same host and prefix.
import type { AppSpec } from '../core/app.js';
import { SwitchyardError, formatLocation, type Location } from '../core/errors.js';
import type { HostView } from '../core/host.js';
import { hostnameProblem, prefixProblem } from '../core/hostname.js';
import type { RawApp } from './app-spec.js';

type At = (path: (string | number)[]) => Location;

function invalid(message: string, location: Location, hint: string): SwitchyardError {
  return new SwitchyardError('ValidationFailed', message, { location, hint });
}

export function edgeErrors(raw: RawApp, spec: AppSpec, at: At, host: HostView): SwitchyardError[] {
  const errors: SwitchyardError[] = [];
  const { edge } = spec;
  if (raw.listen === undefined && !edge.hosts.length) {
    errors.push(invalid('the app is served nowhere', at(['name']), 'set `listen` (a port of its own), `hosts` (names on the shared ports), or both'));
  }
  // The spec's names are the file's, lowercased, index for index.
  edge.hosts.forEach((name, i) => {
    const problem = hostnameProblem(name);
    if (problem) errors.push(invalid(`host name "${raw.hosts![i]}" ${problem}`, at(['hosts', i]), 'e.g. shop.example.com or *.example.com'));
  });
  if (raw.listen === undefined && raw.preview?.port !== undefined) {
    errors.push(invalid('a preview port needs the app\'s own `listen`: it binds beside it', at(['preview', 'port']), 'add `listen`, or preview by header or cookie on the host names'));
  }
  if (raw.pathPrefix !== undefined) {
    const problem = prefixProblem(raw.pathPrefix);
    if (problem) errors.push(invalid(`pathPrefix "${raw.pathPrefix}" ${problem}`, at(['pathPrefix']), 'e.g. /api'));
  }
  if (!edge.hosts.length) {
    for (const key of ['pathPrefix', 'stripPrefix', 'tls'] as const) {
      if (raw[key] !== undefined) errors.push(invalid(`"${key}" applies to apps served by host name`, at([key]), 'add `hosts`, or remove it'));
    }
  }
  const entrypoints = host.entrypoints;
  if (edge.tls === 'acme') {
    const wildcard = edge.hosts.findIndex((h) => h.startsWith('*.'));
    if (wildcard >= 0) errors.push(invalid('a wildcard name cannot get an ACME certificate here: that needs DNS-01, and Switchyard answers HTTP-01 and TLS-ALPN-01', at(['hosts', wildcard]), 'list the names, or use certificate files: tls: { certFile, keyFile }'));
    const types = host.acmeChallenges;
    if (types && !types.length) errors.push(invalid('tls: acme, and this agent has no acme settings', at(['tls']), 'an operator sets acme.directory and acme.email in the agent config, or use certificate files'));
    else if (types && entrypoints && !types.some((t) => (t === 'http-01' ? entrypoints.http : entrypoints.https))) {
      errors.push(invalid(`tls: acme, and this agent has no port to answer ${types.join(' or ')} on`, at(['tls']), 'an operator sets entrypoints.http (--http), reachable on port 80 from the internet'));
    }
  }
  if (entrypoints && edge.hosts.length) {
    if (edge.tls && !entrypoints.https) errors.push(invalid('the app asks for TLS, and this agent has no shared HTTPS port', at(['tls']), 'an operator sets entrypoints.https (--https) in the agent config'));
    if (!edge.tls && !entrypoints.http) errors.push(invalid('the app is served by host name over plain HTTP, and this agent has no shared HTTP port', at(['hosts']), 'an operator sets entrypoints.http (--http) in the agent config, or add tls'));
  }
  return errors;
}

/** Two apps (or one, twice) claiming the same host name and path prefix: located in both files. */
export function hostClaimErrors(apps: readonly { spec: AppSpec; at: At }[]): SwitchyardError[] {
  const errors: SwitchyardError[] = [];
  const claimed = new Map<string, { app: string; where: Location }>();
  for (const { spec, at } of apps) {
    spec.edge.hosts.forEach((name, i) => {
      const key = `${name} ${spec.edge.pathPrefix}`;
      const here = at(['hosts', i]);
      const first = claimed.get(key);
      if (!first) {
        claimed.set(key, { app: spec.name, where: here });
        return;
      }
      const what = spec.edge.pathPrefix === '/' ? name : `${name}${spec.edge.pathPrefix}`;
      errors.push(invalid(`${what} is already claimed by app "${first.app}" at ${formatLocation(first.where)}`, here, 'each host name and path prefix belongs to one app: change one of them, or give one a pathPrefix'));
    });
  }
  return errors;
}
