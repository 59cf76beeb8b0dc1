// The route table of one app, and the Router that serves it. The executor talks only to this interface.
import type { Color, RoutingSpec } from './app.js';

/** The cookie that keeps a client on the color a sticky canary gave it: both data planes set and read it. */
export const CANARY_COOKIE = 'switchyard-canary';

export interface RouteTarget {
  id: string;
  color: Color;
  host: string;
  port: number;
}

export interface Address {
  host: string;
  port: number;
}

/** Where the data plane serves apps: each app's own port binds `listenHost`; the shared ports are optional. */
export interface Entrypoints {
  listenHost: string;
  /** The shared plain-HTTP port (apps by host name, ACME HTTP-01, redirects to HTTPS). */
  http?: Address;
  /** The shared TLS port (apps by SNI and host name). */
  https?: Address;
}

/** An app served by host name (and path prefix) on the shared entrypoints. */
export interface HostRoute {
  names: string[];
  /** `/`, or a prefix without a trailing slash; the longest that matches a request wins. */
  pathPrefix: string;
  stripPrefix: boolean;
  /** Served here in plain HTTP, or redirected from here to HTTPS (308) when `https` is set too. */
  http?: Address;
  /** Served here over TLS with `tls`; without it (an ACME certificate not issued yet), only kept open. */
  https?: Address;
  /** PEM files on the host and a digest of their content: a new digest makes the data plane read them again. */
  tls?: { certFile: string; keyFile: string; digest: string };
}

export interface AppRoute {
  app: string;
  /** A port of the app's own; absent when it is served by host name only. */
  listen?: Address;
  hosts?: HostRoute;
  /** Ordinary requests get a 503 page with this message (preview requests still reach the standby color). */
  maintenance?: { message: string; retryAfterS?: number };
  limits?: { maxRequestBodyBytes?: number; requestTimeoutMs?: number };
  /** The color every ordinary request goes to. */
  color: Color;
  /**
   * The healthy targets that may take requests, each with its color. Ordinary requests are spread
   * round-robin over the active color's; the other color's are here only when `routing` sends
   * requests to it (preview, canary, rules).
   */
  targets: RouteTarget[];
  drainTimeoutMs: number;
  /** Epoch ms since `color` has been the active color (scaleDownDelay counts from here). */
  since?: number;
  /** Preview, canary and rules. Absent: every request goes to `color`. */
  routing?: RoutingSpec;
}

export interface ColorCounters {
  requests: number;
  errors5xx: number;
  inFlight: number;
  /** Requests refused with 413 (a body over limits.maxRequestBody) and answered 504 (limits.requestTimeout). */
  tooLarge?: number;
  timedOut?: number;
  /** Upgraded connections (WebSockets) open now (embedded proxy only). */
  tunnels?: number;
  /** Epoch ms of the last request, or undefined when none arrived yet. */
  lastHit?: number;
  /** Time to answer, as a cumulative histogram (embedded proxy only). */
  latency?: LatencyHistogram;
  /**
   * Targets the data plane has taken out of rotation for now, having failed to reach each several times
   * in a row (passive health; embedded proxy only). They come back on their own after a while.
   */
  ejected?: string[];
}

/** `counts[i]` answers took at most `bucketsMs[i]`; `count` and `sumMs` cover all of them. */
export interface LatencyHistogram {
  bucketsMs: number[];
  counts: number[];
  count: number;
  sumMs: number;
}

export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

export function observeLatency(h: LatencyHistogram, ms: number): void {
  h.count++;
  h.sumMs += ms;
  for (let i = h.bucketsMs.length - 1; i >= 0 && ms <= h.bucketsMs[i]!; i--) h.counts[i]!++;
}

/** Every routed app's counters, per color: what the status and the metrics show, in one read. */
export type Traffic = Record<string, Partial<Record<Color, ColorCounters>>>;

export interface Router {
  /**
   * Makes `route` the app's route in one atomic step and returns once it is in force: every request
   * accepted after that goes to the new targets. Idempotent. Throws SwitchyardError(PortInUse) when
   * the listen address cannot be bound.
   */
  apply(route: AppRoute): Promise<void>;
  /** Stops serving the app (its listener closes after in-flight requests finish). */
  remove(app: string): Promise<void>;
  routes(): Promise<AppRoute[]>;
  /** Resolves when none of these targets has a request in flight, or at the timeout; returns how many were left. */
  drain(targetIds: readonly string[], timeoutMs: number): Promise<number>;
  /** One app's counters (the guard reads them every step). */
  counters(app: string): Promise<Partial<Record<Color, ColorCounters>>>;
  traffic(): Promise<Traffic>;
  close(): Promise<void>;
}

export function sameRoute(a: AppRoute | undefined, b: AppRoute): boolean {
  if (!a) return false;
  const key = (r: AppRoute) =>
    JSON.stringify([
      r.listen ?? null, r.hosts ?? null, r.maintenance ?? null, r.limits ?? null, r.color, r.drainTimeoutMs,
      r.targets.map((t) => `${t.color}/${t.id}@${t.host}:${t.port}`).sort(), r.routing ?? null,
    ]);
  return key(a) === key(b);
}
