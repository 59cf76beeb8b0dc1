// The embedded reverse proxy (the default Router). One listener per app (plus one on its preview port,
// if any); the app's route is a single reference that `apply` swaps. A request reads that reference and
// registers as in flight on its target in the same synchronous step, so no request falls between
// "chosen" and "counted", and every request accepted after a swap (including the next one on a
// kept-alive connection) is routed by the new table. Draining never blocks new requests: it waits on
// each target's own count (backend.ts: one object per target with its pool, in-flight count, passive
// health and drain).
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Clock } from '../../core/clock.js';
import { COLORS, otherColor, type Color } from '../../core/app.js';
import { SwitchyardError } from '../../core/errors.js';
import type { ChallengeResponder } from '../../core/certificates.js';
import { Backend } from './backend.js';
import { chooseColor, type Choice } from './choose-color.js';
import { BODY_TOO_LARGE, forward, hasBody, HOP_BY_HOP, NO_ANSWER_IN_TIME, requestHeaders } from './forward.js';
import { FrontDoor, type Kind } from './front-door.js';
import { page, reply } from './pages.js';
import { MAINTENANCE_TITLE } from '../../core/page.js';
import { LATENCY_BUCKETS_MS, observeLatency, type Address, type AppRoute, type ColorCounters, type Router, type RouteTarget, type Traffic } from '../../core/route.js';

const SAFE_TO_RETRY = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A shared entrypoint no route needs any more closes; its requests in flight get this long to finish. */
const SHARED_RETIRE_MS = 30_000;
/** The failures that are the target's own (it refused, reset or did not answer): passive health counts only these. */
const TARGET_FAULTS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Client-side limits of every listener (documented in the README). */
export const LIMITS = {
  /** The request line and headers must arrive within this. */
  headersTimeoutMs: 20_000,
  /** The whole request, body included, must arrive within this. */
  requestTimeoutMs: 300_000,
  /** An idle kept-alive connection closes after this. */
  keepAliveTimeoutMs: 5_000,
  /** Connections one listener holds at most; more are refused until some close. */
  maxConnections: 10_000,
  /** A tunnel (WebSocket) with no byte either way for this long is closed. */
  tunnelIdleMs: 3_600_000,
} as const;

type Mode = 'main' | 'preview';

interface Listener {
  /** The app's own port, when it has one. */
  main: Server | undefined;
  preview: Server | undefined;
  route: AppRoute;
  /** The route's targets by color, computed once per route rather than once per request. */
  pools: Record<Color, RouteTarget[]>;
  cursor: Record<Color, number>;
  counters: Partial<Record<Color, ColorCounters>>;
}

/** An upgraded (WebSocket) connection, tracked so that a retired color's can be closed gently. */
interface Tunnel {
  app: string;
  target: RouteTarget;
  explicit: boolean;
  close(): void;
  closing: boolean;
}

export interface EmbeddedProxyOptions {
  random?: () => number;
  /** Peers (other proxies in front of this one) whose X-Forwarded-* and Forwarded headers are believed. */
  trustedProxies?: readonly string[];
  tunnelIdleMs?: number;
}

export class EmbeddedProxy implements Router, ChallengeResponder {
  private readonly listeners = new Map<string, Listener>();
  /** Every target a request went to, by id (kept while requests are in flight on it). */
  private readonly backends = new Map<string, Backend>();
  private readonly tunnels = new Set<Tunnel>();
  /** Ports closed by a remove or a port change whose requests in flight are still finishing. */
  private readonly closing = new Set<Promise<void>>();
  private readonly random: () => number;
  private readonly trustedProxies: ReadonlySet<string>;
  private readonly tunnelIdleMs: number;
  private readonly door: FrontDoor;

  constructor(private readonly clock: Clock, opts: EmbeddedProxyOptions = {}) {
    this.random = opts.random ?? Math.random;
    this.trustedProxies = new Set(opts.trustedProxies ?? []);
    this.tunnelIdleMs = opts.tunnelIdleMs ?? LIMITS.tunnelIdleMs;
    this.door = new FrontDoor({
      request: (app, req, res) => this.handle(app, 'main', req, res),
      upgrade: (app, req, socket, head) => this.upgrade(app, 'main', req, socket, head),
      server: (kind, sni) => this.server(kind, sni),
      retire: (server) => this.retire(server, SHARED_RETIRE_MS),
    });
  }

  async apply(route: AppRoute): Promise<void> {
    const current = this.listeners.get(route.app);
    const opened: Server[] = [];
    const undo = () => Promise.all(opened.map((s) => closeServer(s, 0, this.clock)));
    let main = current?.main;
    let preview = current?.preview;
    let doorOpened: (() => void) | undefined;
    try {
      if (!sameAddress(current?.route.listen, route.listen)) {
        main = route.listen ? await this.listen(route, 'main', route.listen) : undefined;
        if (main) opened.push(main);
      }
      const previewPort = route.routing?.preview?.port;
      if (!(current?.preview && previewPort === current.route.routing?.preview?.port)) {
        // The loader gives a preview port only to an app with a port of its own: it binds beside it.
        preview = previewPort !== undefined && route.listen ? await this.listen(route, 'preview', { host: route.listen.host, port: previewPort }) : undefined;
        if (preview) opened.push(preview);
      }
      doorOpened = await this.door.open(route);
      // The shared tables and the app's own route change in the same synchronous step.
      this.door.update([...[...this.listeners.values()].filter((l) => l.route.app !== route.app).map((l) => l.route), route]);
    } catch (e) {
      await undo();
      throw e;
    } finally {
      doorOpened?.();
    }
    const pools = { blue: route.targets.filter((t) => t.color === 'blue'), green: route.targets.filter((t) => t.color === 'green') };
    const listener: Listener = current ?? { main, preview, route, pools, cursor: { blue: 0, green: 0 }, counters: {} };
    const old = { main: listener.main, preview: listener.preview };
    Object.assign(listener, { main, preview, route, pools }); // the swap
    this.listeners.set(route.app, listener);
    if (old.main && old.main !== main) this.retire(old.main, route.drainTimeoutMs);
    if (old.preview && old.preview !== preview) this.retire(old.preview, route.drainTimeoutMs);
    this.retireTunnels(route);
  }

  async remove(app: string): Promise<void> {
    const listener = this.listeners.get(app);
    if (!listener) return;
    this.listeners.delete(app);
    this.door.update([...this.listeners.values()].map((l) => l.route));
    this.retireTunnels({ app, targets: [], color: listener.route.color, drainTimeoutMs: listener.route.drainTimeoutMs });
    if (listener.main) this.retire(listener.main, listener.route.drainTimeoutMs);
    if (listener.preview) this.retire(listener.preview, listener.route.drainTimeoutMs);
  }

  /**
   * The port stops accepting now; its requests in flight finish in the background (see closeServer), so
   * a control call never waits on them. Whoever must wait for them drains the targets; close() waits too.
   */
  private retire(server: Server, drainTimeoutMs: number): void {
    const closed = closeServer(server, drainTimeoutMs, this.clock).finally(() => this.closing.delete(closed));
    this.closing.add(closed);
  }

  /** ACME HTTP-01: answered on the shared plain-HTTP port, for any host, until withdrawn. */
  async answer(token: string, keyAuthorization: string): Promise<void> {
    this.door.challenges.set(token, keyAuthorization);
  }

  async withdraw(token: string): Promise<void> {
    this.door.challenges.delete(token);
  }

  readonly challengeTypes = ['http-01', 'tls-alpn-01'] as const;

  /** ACME TLS-ALPN-01: the challenge certificate, to clients offering `acme-tls/1` for this name only. */
  async answerTlsAlpn(name: string, certPem: string, keyPem: string): Promise<void> {
    this.door.alpnChallenges.set(name.toLowerCase(), createSecureContext({ cert: certPem, key: keyPem }));
  }

  async withdrawTlsAlpn(name: string): Promise<void> {
    this.door.alpnChallenges.delete(name.toLowerCase());
  }

  async routes(): Promise<AppRoute[]> {
    return [...this.listeners.values()].map((l) => l.route);
  }

  async drain(targetIds: readonly string[], timeoutMs: number): Promise<number> {
    const backends = targetIds.flatMap((id) => this.backends.get(id) ?? []);
    const timeout = new AbortController();
    await Promise.race([Promise.all(backends.map((b) => b.idle())), this.clock.sleep(timeoutMs, timeout.signal)]);
    timeout.abort();
    const remaining = backends.reduce((n, b) => n + b.requestsInFlight, 0);
    const routed = new Set([...this.listeners.values()].flatMap((l) => l.route.targets.map((t) => t.id)));
    for (const b of backends) {
      if (routed.has(b.id)) continue;
      b.retire();
      if (!b.requestsInFlight) this.backends.delete(b.id);
    }
    return remaining;
  }

  async counters(app: string): Promise<Partial<Record<Color, ColorCounters>>> {
    const listener = this.listeners.get(app);
    return listener ? this.countersOf(listener) : {};
  }

  async traffic(): Promise<Traffic> {
    return Object.fromEntries([...this.listeners].map(([app, listener]) => [app, this.countersOf(listener)]));
  }

  private countersOf(listener: Listener): Partial<Record<Color, ColorCounters>> {
    const out = structuredClone(listener.counters);
    const now = this.clock.now();
    for (const color of COLORS) {
      const ejected = listener.pools[color].filter((t) => this.backends.get(t.id)?.ejected(now)).map((t) => t.id);
      if (ejected.length && out[color]) out[color].ejected = ejected;
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((app) => this.remove(app)));
    this.door.close();
    await Promise.all(this.closing);
    for (const t of this.tunnels) t.close();
    await Promise.all([...this.backends.values()].map((b) => b.destroy()));
    this.backends.clear();
  }

  /** A server with the listeners' limits (see LIMITS); over TLS, the certificate is chosen by SNI. */
  private server(kind: Kind, sni?: (name: string) => SecureContext | undefined): Server {
    const opts = { keepAliveTimeout: LIMITS.keepAliveTimeoutMs, headersTimeout: LIMITS.headersTimeoutMs, requestTimeout: LIMITS.requestTimeoutMs };
    const server: Server =
      kind === 'https'
        ? createTlsServer({ ...opts, ALPNProtocols: ['http/1.1'], SNICallback: (name, cb) => cb(null, sni?.(name)) })
        : createServer(opts);
    server.maxConnections = LIMITS.maxConnections;
    server.on('clientError', (_err, socket: Socket) => socket.destroy());
    return server;
  }

  private async listen(route: AppRoute, mode: Mode, address: Address): Promise<Server> {
    const server = this.server('http');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(route.app, mode, req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(route.app, mode, req, socket, head));
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) =>
        reject(
          new SwitchyardError('PortInUse', `app "${route.app}": cannot listen on ${address.host}:${address.port} (${mode} port): ${e.code ?? e.message}`, {
            hint: `another process holds that port; stop it or change ${mode === 'main' ? '`listen`' : '`preview.port`'} in the app file`,
          }),
        );
      server.once('error', onError);
      server.listen(address.port, address.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    return server;
  }

  private choose(listener: Listener, mode: Mode, headers: IncomingHttpHeaders): Choice {
    if (mode === 'preview') return { color: otherColor(listener.route.color), explicit: true, strict: true };
    return chooseColor(listener.route, headers, this.random);
  }

  /** Round-robin within one color, skipping targets already tried and those out of rotation. */
  private pick(listener: Listener, color: Color, tried: ReadonlySet<string>): RouteTarget | undefined {
    let pool = listener.pools[color];
    if (tried.size) pool = pool.filter((t) => !tried.has(t.id));
    if (!pool.length) return undefined;
    const now = this.clock.now();
    const out = (t: RouteTarget) => this.backends.get(t.id)?.ejected(now);
    if (pool.some(out)) {
      const inRotation = pool.filter((t) => !out(t));
      // When every target is out of rotation, trying one beats refusing the request.
      if (inRotation.length) pool = inRotation;
    }
    return pool[listener.cursor[color]++ % pool.length];
  }

  /** The target for a request: the chosen color, else (but for a preview) the active one. */
  private target(listener: Listener, choice: Choice, tried: ReadonlySet<string>): RouteTarget | undefined {
    const chosen = this.pick(listener, choice.color, tried);
    if (chosen || choice.strict || choice.color === listener.route.color) return chosen;
    return this.pick(listener, listener.route.color, tried);
  }

  private handle(app: string, mode: Mode, req: IncomingMessage, res: ServerResponse, tried: Set<string> = new Set()): void {
    const listener = this.listeners.get(app);
    const choice = listener && this.choose(listener, mode, req.headers);
    if (listener && choice && !tried.size && this.refused(listener, choice, req, res)) return;
    const target = listener && choice && this.target(listener, choice, tried);
    if (!listener || !choice || !target) {
      if (tried.size) reply(res, 502, 'bad gateway: no target answered\n');
      else reply(res, 503, choice ? `no healthy ${choice.color} target\n` : 'no route\n');
      return;
    }
    tried.add(target.id);
    const counters = this.colorCounters(listener, target.color);
    counters.requests++;
    counters.inFlight++;
    const started = (counters.lastHit = this.clock.now());
    const backend = this.backendFor(target);
    const release = backend.begin();
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      counters.inFlight--;
      release();
      // Answered in full (not retried elsewhere, not cut): one latency observation.
      if (res.writableFinished) observeLatency(counters.latency!, this.clock.now() - started);
    };

    forward(backend.dispatcher(target), req, res, choice.setCookie, this.trustedProxies, {
      response: (status) => {
        backend.answered();
        if (status >= 500) counters.errors5xx++;
      },
      failure: (err, answered) => {
        if (answered) {
          res.destroy();
          return;
        }
        if (err.code === BODY_TOO_LARGE) {
          counters.tooLarge = (counters.tooLarge ?? 0) + 1;
          tooLarge(res);
          return;
        }
        if (err.code === NO_ANSWER_IN_TIME) {
          counters.timedOut = (counters.timedOut ?? 0) + 1;
          counters.errors5xx++;
          page(res, 504, 'Gateway timeout', 'The site took too long to answer. Please try again.', { connection: 'close' });
          return;
        }
        // Passive health counts the target's own failures only: never a client that left, nor a body it cut.
        if (TARGET_FAULTS.has(err.code ?? '') && !clientLeft(req, res)) backend.unreachable(this.clock.now());
        // No answer yet: retry on another target when that cannot repeat a side effect.
        if (canRetry(req, err)) {
          done();
          counters.requests--;
          this.handle(app, mode, req, res, tried);
          return;
        }
        counters.errors5xx++;
        reply(res, 502, 'bad gateway\n');
      },
    }, listener.route.limits);
    res.on('close', done);
  }

  /**
   * Answers a request the app never sees: a maintenance page (a preview still reaches its color, so a
   * fix can be checked before maintenance ends), or a body whose stated length is over the limit.
   */
  private refused(listener: Listener, choice: Choice, req: IncomingMessage, res: ServerResponse): boolean {
    const { maintenance, limits } = listener.route;
    if (maintenance && !choice.strict) {
      page(res, 503, MAINTENANCE_TITLE, maintenance.message, maintenance.retryAfterS !== undefined ? { 'retry-after': maintenance.retryAfterS } : {});
      return true;
    }
    const max = limits?.maxRequestBodyBytes;
    if (max !== undefined && Number(req.headers['content-length'] ?? 0) > max) {
      const counters = this.colorCounters(listener, choice.color);
      counters.tooLarge = (counters.tooLarge ?? 0) + 1;
      tooLarge(res);
      return true;
    }
    return false;
  }

  /**
   * An Upgrade request (WebSocket) is sent to the target as an HTTP request. Only a 101 answer turns the
   * connection into a tunnel; any other answer is passed back as an ordinary response and the connection
   * closes, so that nothing the client sends next can skip parsing, the forwarded headers or the routing.
   * A tunnel is in flight on its target (a drain waits for it), counted per color, and closed when idle
   * for tunnelIdleMs.
   */
  private upgrade(app: string, mode: Mode, req: IncomingMessage, client: Socket, head: Buffer): void {
    const listener = this.listeners.get(app);
    const choice = listener && this.choose(listener, mode, req.headers);
    const target = listener && choice && this.target(listener, choice, new Set());
    if (!listener || !target || !choice || (listener.route.maintenance && !choice.strict)) {
      client.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const backend = this.backendFor(target);
    const end = backend.begin();
    client.on('close', end);
    client.on('error', () => client.destroy());
    const upstreamReq = request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: requestHeaders(req, this.trustedProxies, true),
      agent: false,
      timeout: this.tunnelIdleMs,
    });
    upstreamReq.on('upgrade', (res, upstream, upstreamHead) => {
      const counters = this.colorCounters(listener, target.color);
      counters.tunnels = (counters.tunnels ?? 0) + 1;
      client.write(`${responseHead(res, () => true)}\r\n`);
      if (upstreamHead.length) client.write(upstreamHead);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      const tunnel: Tunnel = {
        app,
        target,
        explicit: choice.explicit,
        closing: false,
        close: () => {
          upstream.destroy();
          client.destroy();
        },
      };
      this.tunnels.add(tunnel);
      const closed = () => {
        if (!this.tunnels.delete(tunnel)) return;
        counters.tunnels = (counters.tunnels ?? 1) - 1;
        tunnel.close();
      };
      for (const s of [upstream, client]) {
        s.setTimeout(this.tunnelIdleMs, closed);
        s.on('error', closed);
        s.on('close', closed);
      }
    });
    upstreamReq.on('response', (res) => {
      // Not upgraded: an ordinary answer, then the connection closes.
      client.write(`${responseHead(res, (name) => !HOP_BY_HOP.has(name.toLowerCase()))}connection: close\r\n\r\n`);
      res.pipe(client);
    });
    upstreamReq.on('timeout', () => upstreamReq.destroy(new Error('no answer to the upgrade')));
    upstreamReq.on('error', () => {
      if (!client.writableEnded) client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      end();
    });
    upstreamReq.end();
  }

  /**
   * Upgraded connections on a color that no longer takes ordinary traffic (or on a target that left
   * the route) get a grace window, the app's drain timeout, and then close, each at a random moment
   * within it so that clients do not all reconnect at once. Connections a client opened on purpose to
   * a color (preview, rules) stay while that color's targets are routed.
   */
  private retireTunnels(route: Pick<AppRoute, 'app' | 'targets' | 'color' | 'drainTimeoutMs'>): void {
    const routed = new Set(route.targets.map((t) => t.id));
    for (const t of this.tunnels) {
      if (t.app !== route.app || t.closing) continue;
      const retired = !routed.has(t.target.id) || (!t.explicit && t.target.color !== route.color);
      if (!retired) continue;
      t.closing = true;
      void this.clock.sleep(Math.floor(this.random() * route.drainTimeoutMs)).then(() => t.close());
    }
  }

  private colorCounters(listener: Listener, color: Color): ColorCounters {
    return (listener.counters[color] ??= { requests: 0, errors5xx: 0, inFlight: 0, latency: { bucketsMs: LATENCY_BUCKETS_MS, counts: LATENCY_BUCKETS_MS.map(() => 0), count: 0, sumMs: 0 } });
  }

  private backendFor(target: RouteTarget): Backend {
    let backend = this.backends.get(target.id);
    if (!backend) {
      backend = new Backend(target.id, target);
      this.backends.set(target.id, backend);
    }
    return backend;
  }
}

/** A response's status line and the headers `keep` accepts, each line ended, for writing on a raw socket. */
function responseHead(res: IncomingMessage, keep: (name: string) => boolean): string {
  const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage}`];
  for (let i = 0; i < res.rawHeaders.length; i += 2) if (keep(res.rawHeaders[i]!)) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n`;
}

function clientLeft(req: IncomingMessage, res: ServerResponse): boolean {
  return req.destroyed || res.destroyed || !res.socket?.writable;
}

function canRetry(req: IncomingMessage, err: NodeJS.ErrnoException): boolean {
  if (hasBody(req)) return false;
  // A refused connection never reached the target; an idempotent request may be repeated after a reset
  // (undici reports a connection closed under a request as UND_ERR_SOCKET).
  if (err.code === 'ECONNREFUSED') return true;
  return SAFE_TO_RETRY.has(req.method ?? '') && ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(err.code ?? '');
}

/** The connection closes after a 413: the rest of the body is never read. */
function tooLarge(res: ServerResponse): void {
  page(res, 413, 'Request too large', 'The request body is larger than this site accepts.', { connection: 'close' });
}

function sameAddress(a: Address | undefined, b: Address | undefined): boolean {
  return a?.host === b?.host && a?.port === b?.port;
}

/**
 * Stops accepting connections at once; requests in flight get up to `timeoutMs` to finish, then what is
 * left is cut. Unbounded, one stream (SSE, a long poll) would hold up a prune or a port change forever.
 */
async function closeServer(server: Server, timeoutMs: number, clock: Clock): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const stop = new AbortController();
  await Promise.race([closed, clock.sleep(timeoutMs, stop.signal)]);
  stop.abort();
  server.closeAllConnections();
  await closed;
}
