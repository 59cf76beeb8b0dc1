// The shared entrypoints of the embedded proxy: one plain-HTTP and one TLS listener, opened when a route
// first needs one and closed (gently) when none does. A request finds its app in the entrypoint's host
// table; TLS finds its certificate by SNI. Both tables are replaced whole, in one synchronous step, when
// a route changes, so a request sees the old table or the new one, never half of either; a connection
// already open keeps the certificate it was handshaken with, so a renewal drops nothing.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureContext, type Server as TlsServer } from 'node:tls';
import { parseClientHello, recordBytesMissing } from './client-hello.js';
import { SwitchyardError } from '../../core/errors.js';
import { candidates, requestHost, stripPrefix } from '../../core/hostname.js';
import type { Address, AppRoute } from '../../core/route.js';
import { HostTable, type HostEntry } from './host-table.js';
import { notFound, toHttps } from './pages.js';

export type Kind = 'http' | 'https';

/** ACME HTTP-01 challenges are answered on plain HTTP, never redirected. */
const ACME_CHALLENGE = '/.well-known/acme-challenge/';
/** The ALPN protocol of an ACME TLS-ALPN-01 validation (RFC 8737). */
const ACME_TLS_ALPN = 'acme-tls/1';
/** A ClientHello fits in one record; one that has not come whole by then is not waited for. */
const MAX_HELLO_BYTES = 16 * 1024 + 5;
const HELLO_TIMEOUT_MS = 20_000;

interface Entrypoint {
  kind: Kind;
  address: Address;
  server: Server;
  table: HostTable;
  /** Per claimed name, the TLS context for its SNI (https only). */
  contexts: Map<string, SecureContext>;
  /** Per app on the http entrypoint whose hosts are also on https: the https port to redirect to. */
  redirects: Map<string, number>;
}

export interface FrontDoorHandlers {
  /** Serve an ordinary request for this app (its path already stripped where the app asks). */
  request(app: string, req: IncomingMessage, res: ServerResponse): void;
  upgrade(app: string, req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Open a server with the proxy's own limits and handlers. */
  server(kind: Kind, sni: (name: string) => SecureContext | undefined): Server;
  retire(server: Server): void;
}

export class FrontDoor {
  private readonly entrypoints = new Map<string, Entrypoint>();
  /** Entrypoints being opened for a route not yet in the table: never closed under it. */
  private readonly opening = new Map<string, number>();
  /** TLS contexts by the digest of their pair: a pair is read and parsed once. */
  private contexts = new Map<string, SecureContext>();
  /** ACME HTTP-01 answers by token, for any host on the plain-HTTP entrypoint. */
  readonly challenges = new Map<string, string>();
  /** ACME TLS-ALPN-01 certificates by name, for clients offering `acme-tls/1` on the TLS entrypoint. */
  readonly alpnChallenges = new Map<string, SecureContext>();
  /** Answers TLS-ALPN-01 handshakes (RFC 8737): the challenge certificate, then the connection ends. */
  private alpnServer: TlsServer | undefined;

  constructor(private readonly handlers: FrontDoorHandlers) {}

  /**
   * Opens the entrypoints `route` needs (PortInUse when one cannot be bound). Call `done` once the route
   * is in the table (or failed), so an entrypoint opened for it may close again when unused.
   */
  async open(route: AppRoute): Promise<() => void> {
    const wanted = needs(route);
    for (const [key] of wanted) this.opening.set(key, (this.opening.get(key) ?? 0) + 1);
    const done = () => {
      for (const [key] of wanted) {
        const n = (this.opening.get(key) ?? 1) - 1;
        if (n) this.opening.set(key, n);
        else this.opening.delete(key);
      }
    };
    try {
      for (const [key, { kind, address }] of wanted) {
        if (this.entrypoints.has(key)) continue;
        const contexts = new Map<string, SecureContext>();
        const ep: Entrypoint = { kind, address, server: this.handlers.server(kind, (name) => sniContext(ep.contexts, name)), table: new HostTable([]), contexts, redirects: new Map() };
        if (kind === 'https') this.divertAcmeHandshakes(ep.server);
        ep.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.request(ep, req, res));
        ep.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(ep, req, socket, head));
        await bind(ep.server, address, route.app, kind);
        if (!this.entrypoints.has(key)) this.entrypoints.set(key, ep);
        else ep.server.close(); // another route opened it meanwhile
      }
    } catch (e) {
      done();
      throw e;
    }
    return done;
  }

  /**
   * Makes `routes` the whole table, synchronously. Throws (changing nothing) when a certificate pair
   * cannot be read or parsed; retires entrypoints no route needs.
   */
  update(routes: readonly AppRoute[]): void {
    const contexts = new Map<string, SecureContext>();
    const byKey = new Map<string, AppRoute[]>();
    for (const r of routes) {
      for (const [key] of needs(r)) byKey.set(key, [...(byKey.get(key) ?? []), r]);
      const tls = r.hosts?.https && r.hosts.tls;
      if (tls && !contexts.has(tls.digest)) contexts.set(tls.digest, this.contexts.get(tls.digest) ?? readContext(r.app, tls));
    }
    for (const [key, ep] of this.entrypoints) {
      const needed = byKey.get(key) ?? [];
      // Over TLS, only apps with a certificate are served; the port stays open for one still waiting for
      // its ACME certificate (a TLS-ALPN-01 challenge is answered there).
      const served = ep.kind === 'https' ? needed.filter((r) => r.hosts?.tls) : needed;
      ep.table = new HostTable(served);
      ep.redirects = new Map(ep.kind === 'http' ? served.flatMap((r) => (r.hosts?.https && r.hosts.tls ? [[r.app, r.hosts.https.port] as const] : [])) : []);
      ep.contexts = new Map(ep.kind === 'https' ? served.flatMap((r) => r.hosts!.names.map((n) => [n, contexts.get(r.hosts!.tls!.digest)!] as const)) : []);
      if (!needed.length && !this.opening.has(key)) {
        this.entrypoints.delete(key);
        this.handlers.retire(ep.server);
      }
    }
    this.contexts = contexts;
  }

  close(): void {
    for (const ep of this.entrypoints.values()) this.handlers.retire(ep.server);
    this.entrypoints.clear();
    this.alpnServer?.close();
  }

  /**
   * Reads each new connection's ClientHello before TLS does: one that offers `acme-tls/1` for a name with
   * a TLS-ALPN-01 challenge pending goes to the challenge server; every other goes on, bytes unread, to
   * the TLS server's own handling (its one 'connection' listener), so ordinary clients of that name never
   * see the challenge certificate.
   */
  private divertAcmeHandshakes(server: Server): void {
    const [tls] = server.listeners('connection') as ((socket: Socket) => void)[];
    if (!tls) return;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      let head = Buffer.alloc(0);
      const slow = () => socket.destroy();
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const missing = recordBytesMissing(head);
        if (missing && head.length < MAX_HELLO_BYTES) return;
        socket.off('data', onData);
        // Nothing of this wait stays on the socket: the TLS and HTTP servers set their own timeouts.
        socket.off('timeout', slow);
        socket.setTimeout(0);
        socket.pause();
        socket.unshift(head);
        const hello = parseClientHello(head);
        const acme = hello.alpn.includes(ACME_TLS_ALPN) && hello.serverName ? this.alpnChallenges.get(hello.serverName) : undefined;
        if (acme) this.acmeServer().emit('connection', socket);
        else tls.call(server, socket);
      };
      socket.on('data', onData);
      socket.on('timeout', slow);
      socket.setTimeout(HELLO_TIMEOUT_MS);
      socket.on('error', () => socket.destroy());
    });
  }

  private acmeServer(): TlsServer {
    if (!this.alpnServer) {
      this.alpnServer = createTlsServer({ ALPNProtocols: [ACME_TLS_ALPN], SNICallback: (name, cb) => cb(null, this.alpnChallenges.get(name.toLowerCase())) }, (socket) => socket.end());
      this.alpnServer.on('tlsClientError', (_e, socket) => socket.destroy());
    }
    return this.alpnServer;
  }

  private find(ep: Entrypoint, req: IncomingMessage): HostEntry | undefined {
    const host = requestHost(req.headers.host);
    return host ? ep.table.lookup(host, req.url ?? '/') : undefined;
  }

  private request(ep: Entrypoint, req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const answer = ep.kind === 'http' && url.startsWith(ACME_CHALLENGE) ? this.challenges.get(url.slice(ACME_CHALLENGE.length).split('?')[0]!) : undefined;
    if (answer !== undefined) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
      return;
    }
    const entry = this.find(ep, req);
    if (!entry) return notFound(res);
    const httpsPort = ep.redirects.get(entry.app);
    if (httpsPort !== undefined && !(req.url ?? '').startsWith(ACME_CHALLENGE)) return toHttps(res, requestHost(req.headers.host)!, httpsPort, req.url ?? '/');
    if (entry.stripPrefix) req.url = stripPrefix(req.url ?? '/', entry.pathPrefix);
    this.handlers.request(entry.app, req, res);
  }

  private upgrade(ep: Entrypoint, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const entry = this.find(ep, req);
    if (!entry || ep.redirects.has(entry.app)) {
      // A WebSocket is not redirected: a client must open it on the HTTPS port itself.
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (entry.stripPrefix) req.url = stripPrefix(req.url ?? '/', entry.pathPrefix);
    this.handlers.upgrade(entry.app, req, socket, head);
  }
}

/** The entrypoints a route is served on, by `ADDR:PORT`. */
function needs(route: AppRoute): Map<string, { kind: Kind; address: Address }> {
  const out = new Map<string, { kind: Kind; address: Address }>();
  for (const kind of ['http', 'https'] as const) {
    const address = route.hosts?.[kind];
    if (address) out.set(`${kind} ${address.host}:${address.port}`, { kind, address });
  }
  return out;
}

/** `contexts` is read at each handshake: the entrypoint's table of the moment. */
function sniContext(contexts: ReadonlyMap<string, SecureContext>, servername: string): SecureContext | undefined {
  const host = requestHost(servername);
  if (!host) return undefined;
  for (const name of candidates(host)) {
    const ctx = contexts.get(name);
    if (ctx) return ctx;
  }
  return undefined;
}

function readContext(app: string, tls: { certFile: string; keyFile: string }): SecureContext {
  try {
    return createSecureContext({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) });
  } catch (e) {
    throw new SwitchyardError('RouteFailed', `app "${app}": the data plane cannot load ${tls.certFile} and ${tls.keyFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'the files changed after the agent checked them, or the proxy cannot read them; it keeps serving the pair it has',
    });
  }
}

function bind(server: Server, address: Address, app: string, kind: Kind): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) =>
      reject(
        new SwitchyardError('PortInUse', `app "${app}": cannot listen on ${address.host}:${address.port} (the shared ${kind} entrypoint): ${e.code ?? e.message}`, {
          hint: `another process holds that port; stop it or change entrypoints.${kind} in the agent config`,
        }),
      );
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
