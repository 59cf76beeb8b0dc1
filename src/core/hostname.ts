// Host names as apps claim them and requests name them: what a valid name or wildcard is, which claimed
// name a request's Host (or TLS SNI) matches, and what a policy pattern allows. Pure, shared by the
// loader (validation), the policy, and both data planes (routing), so that all of them agree.

const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const NAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/** Why `name` cannot be claimed, or undefined when it can. Names are compared in lowercase. */
export function hostnameProblem(name: string): string | undefined {
  if (name.length > 253) return 'is longer than 253 characters';
  if (name.includes(':')) return 'has a port; list the name only (the entrypoint sets the port)';
  if (name.startsWith('*.')) {
    const rest = name.slice(2);
    if (rest.includes('*')) return 'may have one wildcard only, as its whole first label (*.example.com)';
    if (!rest.includes('.')) return 'is a wildcard over a top-level domain; name at least two labels after *.';
    return NAME.test(rest) ? undefined : 'is not a host name (letters, digits and dashes in dot-separated labels)';
  }
  if (name.includes('*')) return 'has a wildcard in the wrong place: only a whole first label may be * (*.example.com)';
  return NAME.test(name) ? undefined : 'is not a host name (letters, digits and dashes in dot-separated labels)';
}

/**
 * The request's host name from a Host header (or SNI): lowercase, without port or trailing dot; undefined
 * when there is none.
 */
export function requestHost(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) return undefined; // an IPv6 literal names no app
  host = host.replace(/:\d+$/, '').replace(/\.$/, '');
  return host || undefined;
}

/** The claimed names that `host` matches, most specific first: the exact name, then `*.` its parent. */
export function candidates(host: string): string[] {
  const dot = host.indexOf('.');
  return dot > 0 ? [host, `*${host.slice(dot)}`] : [host];
}

/**
 * A claimed name (exact or wildcard) allowed by one of the policy's patterns: a pattern `*.example.com`
 * allows any name below example.com, at any depth (wildcards too); an exact pattern allows that name.
 */
export function hostAllowed(claimed: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    const pattern = p.toLowerCase();
    if (!pattern.startsWith('*.')) return claimed === pattern;
    const suffix = pattern.slice(1);
    return claimed.endsWith(suffix) && claimed.length > suffix.length;
  });
}

/** True when a certificate name (exact or one wildcard label, as in RFC 6125) covers `host`. */
export function certCovers(certName: string, host: string): boolean {
  const name = certName.toLowerCase();
  if (name === host) return true;
  if (host.startsWith('*.') || !name.startsWith('*.')) return false;
  return candidates(host)[1] === name;
}

/** Why a path prefix cannot be used, or undefined when it can. */
export function prefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return 'must begin with /';
  // What a URL path may hold unescaped and unreserved: also what both data planes can match as it is.
  if (!/^[A-Za-z0-9._~/-]+$/.test(prefix)) return 'may hold letters, digits and . _ ~ - / only';
  if (/\/\/|(^|\/)\.\.?(\/|$)/.test(prefix)) return 'may not hold // or . or .. segments';
  return undefined;
}

/** A prefix as the data planes compare it: no trailing slash, except the root itself. */
export function normalPrefix(prefix: string | undefined): string {
  return !prefix || prefix === '/' ? '/' : prefix.replace(/\/+$/, '');
}

/**
 * True when the request path is the (normal) prefix or lies under it: `/api` covers `/api`, `/api/x` and
 * `/api?q`, not `/apix`.
 */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  const next = path[prefix.length];
  return next === undefined || next === '/' || next === '?';
}

/** The request path with the (normal) prefix removed, never empty: `/api` becomes `/`, `/api?q` `/?q`. */
export function stripPrefix(path: string, prefix: string): string {
  if (prefix === '/') return path;
  const rest = path.slice(prefix.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}
