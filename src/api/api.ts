// The agent's HTTP API. Handlers only parse and delegate. Loopback by default; every call that changes
// something needs the bearer token, and so does every call when the API binds a non-loopback address
// (the agent refuses to start that way without a token). The webhook authenticates with its own secret.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CATALOGUE, SwitchyardError, type Code } from '../core/errors.js';
import { readBody, sendJson } from '../core/http-json.js';
import type { JournalEntry } from '../core/journal.js';
import type { AgentStatus } from '../core/status.js';
import { SECURITY_HEADERS, serveDashboard, type DashboardFiles } from './dashboard.js';
import { Deliveries, sameSecret, verifyWebhook } from './webhook.js';

const MAX_BODY = 1024 * 1024;

export interface ApiHandlers {
  status(): Promise<AgentStatus>;
  history(filter: { app?: string; limit?: number }): Promise<JournalEntry[]>;
  sync(): void;
  suspend(app: string): Promise<boolean>;
  resume(app: string): Promise<boolean>;
  /** A verified push: fetch now. */
  pushed(provider: string): void;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export interface ApiOptions {
  host: string;
  port: number;
  token: string;
  webhookSecret?: string;
  /**
   * Host names (besides loopback ones) that tokenless reads on a loopback API may name: a page from any
   * other site that a browser resolves to 127.0.0.1 (DNS rebinding) must not read the status.
   */
  allowedHosts?: readonly string[];
  /** The dashboard's files, served at / (absent: no dashboard). */
  dashboard?: DashboardFiles;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The host name of a Host header: `[::1]:7070` -> `::1`, `localhost:7070` -> `localhost`. */
function hostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  return h.replace(/:\d+$/, '');
}

const API_KEEP_ALIVE_MS = 65_000;

export function startApi(handlers: ApiHandlers, opts: ApiOptions): Promise<{ server: Server; url: string }> {
  const openReads = isLoopback(opts.host);
  const deliveries = new Deliveries();
  // Idle kept-alive connections stay open longer than a scraper's or a CLI's pause between calls: a
  // server that closes one just as the client reuses it fails that call ("other side closed"), and with
  // node's default of 5 s a busy machine's timers made that happen (seen in CI).
  const server = createServer({ keepAliveTimeout: API_KEEP_ALIVE_MS, headersTimeout: API_KEEP_ALIVE_MS + 1000 }, (req, res) => {
    route(handlers, opts, openReads, deliveries, req, res).catch((e: unknown) => sendJson(res, 500, { error: (e as Error).message }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new SwitchyardError('PortInUse', `cannot listen on ${opts.host}:${opts.port} for the API: ${e.code ?? e.message}`, { hint: 'pass another --api HOST:PORT' })),
    );
    server.listen(opts.port, opts.host, () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : opts.port;
      resolve({ server, url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${bound}` });
    });
  });
}

async function route(h: ApiHandlers, opts: ApiOptions, openReads: boolean, deliveries: Deliveries, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://agent');
  const path = url.pathname;
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  if (req.method === 'GET' && serveDashboard(opts.dashboard, path, res)) return;
  if (req.method === 'POST' && path === '/hooks/git') return webhook(h, opts, deliveries, req, res);
  if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { ok: true });

  const mutating = req.method !== 'GET';
  const name = hostName(req.headers.host);
  const trustedHost = isLoopback(name) || Boolean(opts.allowedHosts?.includes(name));
  if (openReads && !mutating && !trustedHost && !authorized(req, opts.token)) {
    return sendError(res, 'Unauthorized', `a request naming Host "${name}" needs the bearer token`, 'tokenless reads answer loopback names only (a DNS-rebinding guard); send the token, or list the name in apiAllowedHosts');
  }
  if ((mutating || !openReads) && !authorized(req, opts.token)) {
    return sendError(res, 'Unauthorized', 'a bearer token is required', 'send Authorization: Bearer <token>; the CLI reads it from the agent state dir, or pass --token / SWITCHYARD_API_TOKEN');
  }
  if (req.method === 'GET' && path === '/status') return sendJson(res, 200, await h.status());
  if (req.method === 'GET' && path === '/history') {
    const limit = Number(url.searchParams.get('limit') ?? 0) || undefined;
    const app = url.searchParams.get('app') ?? undefined;
    return sendJson(res, 200, await h.history({ ...(app ? { app } : {}), ...(limit ? { limit } : {}) }));
  }
  if (req.method === 'GET' && path === '/metrics') {
    const m = await h.metrics();
    res.writeHead(200, { 'content-type': m.contentType });
    res.end(m.body);
    return;
  }
  if (req.method === 'POST' && path === '/sync') {
    h.sync();
    return sendJson(res, 202, { accepted: true, hint: 'failed commits are tried again on this pass' });
  }
  const suspend = /^\/apps\/([a-z0-9-]+)\/(suspend|resume)$/.exec(path);
  if (req.method === 'POST' && suspend) {
    const [, app, verb] = suspend;
    const known = verb === 'suspend' ? await h.suspend(app!) : await h.resume(app!);
    return known ? sendJson(res, 200, { app, [verb === 'suspend' ? 'suspended' : 'resumed']: true }) : sendError(res, 'NotFound', `no app "${app}"`, 'see GET /status');
  }
  sendError(res, 'NotFound', `no route ${req.method} ${path}`, 'GET / (the dashboard), /status, /history, /metrics; POST /sync, /apps/NAME/suspend, /apps/NAME/resume, /hooks/git');
}

async function webhook(h: ApiHandlers, opts: ApiOptions, deliveries: Deliveries, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!opts.webhookSecret) return sendError(res, 'NotFound', 'the webhook is off', 'set webhookSecret in the agent config (or SWITCHYARD_WEBHOOK_SECRET)');
  const body = await readBody(req, MAX_BODY);
  if (!body) return sendError(res, 'PayloadTooLarge', `body larger than ${MAX_BODY} bytes`);
  const verdict = verifyWebhook(opts.webhookSecret, req.headers, body);
  if (!verdict.ok) return sendError(res, 'Unauthorized', verdict.why);
  if (!deliveries.first(req.headers)) return sendJson(res, 202, { accepted: true, duplicate: true });
  h.pushed(verdict.provider);
  sendJson(res, 202, { accepted: true });
}

/** An error answer: the catalogue's status for the code, and the code itself for programs. */
function sendError(res: ServerResponse, code: Code, error: string, hint?: string): void {
  sendJson(res, CATALOGUE[code].http ?? 500, { code, error, ...(hint ? { hint } : {}) });
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') && sameSecret(header.slice('Bearer '.length), token);
}
