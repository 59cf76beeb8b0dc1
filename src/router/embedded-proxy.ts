// The embedded reverse proxy (the default Router). One listener per app; the app's route is a single
// reference that `apply` swaps. A request reads that reference and registers as in flight on its target
// in the same synchronous step, so no request falls between "chosen" and "counted", and every request
// accepted after a swap (including the next one on a kept-alive connection) goes to the new targets.
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Clock } from '../clock.js';
import type { Color } from '../desired/app.js';
import { SwitchyardError } from '../errors.js';
import type { AppRoute, ColorCounters, Router, RouteTarget } from './route.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const SAFE_TO_RETRY = new Set(['GET', 'HEAD', 'OPTIONS']);
const DRAIN_POLL_MS = 20;

interface Listener {
  server: Server;
  route: AppRoute;
  next: number;
  counters: Partial<Record<Color, ColorCounters>>;
}

export class EmbeddedProxy implements Router {
  private readonly listeners = new Map<string, Listener>();
  private readonly inFlight = new Map<string, number>();
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly clock: Clock) {}

  async apply(route: AppRoute): Promise<void> {
    const current = this.listeners.get(route.app);
    if (current && current.route.listen.host === route.listen.host && current.route.listen.port === route.listen.port) {
      current.route = route; // the swap
      return;
    }
    const listener: Listener = { server: this.createServer(route.app), route, next: 0, counters: current?.counters ?? {} };
    await listen(listener.server, route);
    this.listeners.set(route.app, listener);
    if (current) await closeServer(current.server);
  }

  async remove(app: string): Promise<void> {
    const listener = this.listeners.get(app);
    if (!listener) return;
    this.listeners.delete(app);
    await closeServer(listener.server);
  }

  async routes(): Promise<AppRoute[]> {
    return [...this.listeners.values()].map((l) => l.route);
  }

  async drain(targetIds: readonly string[], timeoutMs: number): Promise<number> {
    const deadline = this.clock.now() + timeoutMs;
    const left = () => targetIds.reduce((n, id) => n + (this.inFlight.get(id) ?? 0), 0);
    while (left() > 0 && this.clock.now() < deadline) await this.clock.sleep(DRAIN_POLL_MS);
    const remaining = left();
    const routed = new Set([...this.listeners.values()].flatMap((l) => l.route.targets.map((t) => t.id)));
    for (const id of targetIds) {
      if (routed.has(id)) continue;
      // Close kept-alive sockets to a retired target. Sockets still carrying a request (the drain timed
      // out) are left to finish or to fail when the target is removed: never cut them here.
      if (!this.inFlight.get(id)) this.agents.get(id)?.destroy();
      this.agents.delete(id);
    }
    return remaining;
  }

  async counters(app: string): Promise<Partial<Record<Color, ColorCounters>>> {
    const listener = this.listeners.get(app);
    return listener ? structuredClone(listener.counters) : {};
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((app) => this.remove(app)));
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private createServer(app: string): Server {
    const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => this.handle(app, req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(app, req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());
    return server;
  }

  private pick(listener: Listener, exclude: ReadonlySet<string>): RouteTarget | undefined {
    const targets = listener.route.targets;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(listener.next + i) % targets.length]!;
      if (!exclude.has(t.id)) {
        listener.next = (listener.next + i + 1) % targets.length;
        return t;
      }
    }
    return undefined;
  }

  private handle(app: string, req: IncomingMessage, res: ServerResponse, tried: Set<string> = new Set()): void {
    const listener = this.listeners.get(app);
    const target = listener && this.pick(listener, tried);
    if (!listener || !target) {
      reply(res, tried.size ? 502 : 503, tried.size ? 'bad gateway: no target answered\n' : 'no healthy target\n');
      return;
    }
    tried.add(target.id);
    const counters = (listener.counters[target.color] ??= { requests: 0, errors5xx: 0, inFlight: 0 });
    counters.requests++;
    counters.inFlight++;
    counters.lastHit = this.clock.now();
    this.inFlight.set(target.id, (this.inFlight.get(target.id) ?? 0) + 1);
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      counters.inFlight--;
      this.inFlight.set(target.id, (this.inFlight.get(target.id) ?? 1) - 1);
    };

    const upstream = request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers: forwardHeaders(req), agent: this.agentFor(target) },
      (up) => {
        const status = up.statusCode ?? 502;
        if (status >= 500) counters.errors5xx++;
        res.writeHead(status, up.statusMessage, responseHeaders(up.headers));
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
      done();
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // The request never got an answer: retry on another target when that cannot repeat a side effect.
      if (canRetry(req, err)) {
        done();
        counters.requests--;
        this.handle(app, req, res, tried);
        return;
      }
      counters.errors5xx++;
      reply(res, 502, 'bad gateway\n');
    });
    // A retried request was already read to its end: piping it again would never end the new upstream.
    if (hasBody(req)) req.pipe(upstream);
    else upstream.end();
  }

  private upgrade(app: string, req: IncomingMessage, client: Socket, head: Buffer): void {
    const listener = this.listeners.get(app);
    const target = listener && this.pick(listener, new Set());
    if (!target) {
      client.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n');
      return;
    }
    const upstream = connect(target.port, target.host, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', close);
    client.on('error', close);
    upstream.on('close', close);
    client.on('close', close);
  }

  private agentFor(target: RouteTarget): Agent {
    let agent = this.agents.get(target.id);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
      this.agents.set(target.id, agent);
    }
    return agent;
  }
}

function hasBody(req: IncomingMessage): boolean {
  return Boolean(req.headers['transfer-encoding']) || Number(req.headers['content-length'] ?? 0) > 0;
}

function canRetry(req: IncomingMessage, err: NodeJS.ErrnoException): boolean {
  if (hasBody(req)) return false;
  // A refused connection never reached the target; an idempotent request may be repeated after a reset.
  return err.code === 'ECONNREFUSED' || (SAFE_TO_RETRY.has(req.method ?? '') && (err.code === 'ECONNRESET' || err.code === 'EPIPE'));
}

function forwardHeaders(req: IncomingMessage): IncomingHttpHeaders {
  const headers = stripHopByHop(req.headers);
  const peer = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${peer}` : peer;
  headers['x-forwarded-host'] ??= req.headers.host ?? '';
  headers['x-forwarded-proto'] ??= 'http';
  return headers;
}

function responseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return stripHopByHop(headers);
}

function stripHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  const listed = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k) && !listed.has(k)) out[k] = v;
  }
  return out;
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function listen(server: Server, route: AppRoute): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(
        new SwitchyardError('PortInUse', `app "${route.app}": cannot listen on ${route.listen.host}:${route.listen.port}: ${e.code ?? e.message}`, {
          hint: 'another process holds that port; stop it or change `listen` in the app file',
          retry: 'transient',
        }),
      );
    };
    server.once('error', onError);
    server.listen(route.listen.port, route.listen.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
