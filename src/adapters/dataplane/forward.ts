// Forwards one HTTP request to one upstream over a pooled keep-alive connection (undici's dispatcher:
// about 1.5x the throughput of node:http's client here, see bench/proxy.ts). Streams both ways with
// backpressure; a small response with a known length is sent in one write.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);
/** End-to-end headers that a `Connection:` list may not strip (it may name only hop-by-hop extensions). */
const END_TO_END: ReadonlySet<string> = new Set([
  'host', 'authorization', 'cookie', 'set-cookie', 'content-length', 'content-type', 'content-encoding', 'content-range', 'location',
  'cache-control', 'www-authenticate', 'strict-transport-security', 'content-security-policy', 'user-agent', 'accept', 'origin', 'referer',
]);
/** What the proxy itself says about the client: never taken from an untrusted client. */
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-real-ip']);
const BUFFER_LIMIT = 64 * 1024;

export interface ForwardEvents {
  /** The upstream answered with this status (headers not yet sent to the client). */
  response(status: number): void;
  /** It failed; `answered` says whether the client already has a status line. */
  failure(err: NodeJS.ErrnoException, answered: boolean): void;
}

export function hasBody(req: IncomingMessage): boolean {
  return Boolean(req.headers['transfer-encoding']) || Number(req.headers['content-length'] ?? 0) > 0;
}

/** An app's limits on one request (both optional). */
export interface RequestLimits {
  maxRequestBodyBytes?: number;
  requestTimeoutMs?: number;
}

/** The error codes a limit fails a request with (the caller answers 413 or 504). */
export const BODY_TOO_LARGE = 'SY_BODY_TOO_LARGE';
export const NO_ANSWER_IN_TIME = 'SY_NO_ANSWER_IN_TIME';

export function forward(pool: Dispatcher, req: IncomingMessage, res: ServerResponse, setCookie: string | undefined, trusted: ReadonlySet<string>, events: ForwardEvents, limits: RequestLimits = {}): void {
  const handler = new ForwardHandler(res, setCookie, events);
  res.on('close', () => {
    if (!res.writableFinished) handler.fail(new Error('client went away'));
  });
  if (limits.requestTimeoutMs !== undefined) handler.deadline(limits.requestTimeoutMs);
  const body = hasBody(req) ? (limits.maxRequestBodyBytes !== undefined ? bounded(req, limits.maxRequestBodyBytes) : req) : null;
  pool.dispatch({ method: req.method ?? 'GET', path: req.url ?? '/', headers: requestHeaders(req, trusted), body }, handler);
}

/** The body, failing with BODY_TOO_LARGE once more than `max` bytes have come (a chunked body has no length to check first). */
function bounded(req: IncomingMessage, max: number): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(Object.assign(new Error(`request body over ${max} bytes`), { code: BODY_TOO_LARGE }));
      else done(null, chunk);
    },
  });
  req.on('error', (e) => out.destroy(e));
  return req.pipe(out);
}

class ForwardHandler implements Dispatcher.DispatchHandler {
  private abort: ((err?: Error) => void) | undefined;
  /** A failure decided before the connection was there to abort. */
  private early: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private status = 0;
  private headers: string[] = [];
  private buffered: Buffer[] | undefined;
  private answered = false;

  constructor(private readonly res: ServerResponse, private readonly setCookie: string | undefined, private readonly events: ForwardEvents) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    if (this.early) abort(this.early);
  }

  fail(err: Error): void {
    if (this.abort) this.abort(err);
    else this.early ??= err;
  }

  /** Fails the request with NO_ANSWER_IN_TIME unless its answer has begun within `ms`. */
  deadline(ms: number): void {
    this.timer = setTimeout(() => this.fail(Object.assign(new Error(`no answer within ${ms} ms`), { code: NO_ANSWER_IN_TIME })), ms);
    this.timer.unref();
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    clearTimeout(this.timer);
    this.status = status;
    this.headers = responseHeaders(raw, this.setCookie);
    this.events.response(status);
    const length = Number(headerValue(this.headers, 'content-length') ?? NaN);
    if (length <= BUFFER_LIMIT) {
      this.buffered = [];
      return true;
    }
    this.answer();
    this.res.on('drain', resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.buffered) {
      this.buffered.push(chunk);
      return true;
    }
    return this.res.write(chunk);
  }

  onComplete(): void {
    if (this.buffered) {
      this.answer();
      this.res.end(this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered));
    } else {
      this.res.end();
    }
  }

  onError(err: Error): void {
    clearTimeout(this.timer);
    this.events.failure(err as NodeJS.ErrnoException, this.answered);
  }

  private answer(): void {
    this.answered = true;
    this.res.writeHead(this.status, this.headers);
  }
}

/**
 * The request's headers for the target: hop-by-hop ones dropped (those of an upgrade kept when `upgrade`),
 * and the forwarding headers set from what the proxy saw. A client's own X-Forwarded-* and Forwarded are
 * kept (and extended) only when its address is in `trusted` (another proxy in front of this one).
 */
export function requestHeaders(req: IncomingMessage, trusted: ReadonlySet<string>, upgrade = false): string[] {
  const raw = req.rawHeaders;
  const listed = connectionListed(req.headers.connection);
  const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const trustedPeer = trusted.has(peer);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const keepForUpgrade = upgrade && (name === 'connection' || name === 'upgrade');
    if ((HOP_BY_HOP.has(name) || listed?.has(name)) && !keepForUpgrade) continue;
    if (FORWARDING.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  const given = (name: string) => (trustedPeer ? [req.headers[name]].flat().filter(Boolean).join(', ') : '');
  const proto = given('x-forwarded-proto') || ('encrypted' in req.socket ? 'https' : 'http');
  const host = given('x-forwarded-host') || req.headers.host;
  const xff = given('x-forwarded-for');
  out.push('x-forwarded-for', xff ? `${xff}, ${peer}` : peer, 'x-forwarded-proto', proto);
  if (host) out.push('x-forwarded-host', host);
  const mine = `for=${peer.includes(':') ? `"[${peer}]"` : peer};proto=${proto}${host ? `;host="${host.replace(/["\\]/g, '')}"` : ''}`;
  const prior = given('forwarded');
  out.push('forwarded', prior ? `${prior}, ${mine}` : mine);
  return out;
}

function responseHeaders(raw: Buffer[], setCookie: string | undefined): string[] {
  const out: string[] = [];
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toString('latin1').toLowerCase() === 'connection') listed = connectionListed(raw[i + 1]!.toString('latin1'));
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  if (setCookie) out.push('set-cookie', setCookie);
  return out;
}

/** The headers a `Connection:` value names as hop-by-hop, less the end-to-end ones it may not strip. */
function connectionListed(value: string | undefined): Set<string> | undefined {
  if (!value || value === 'keep-alive' || value === 'close') return undefined;
  return new Set(value.toLowerCase().split(',').map((s) => s.trim()).filter((h) => h && !END_TO_END.has(h)));
}

function headerValue(flat: string[], name: string): string | undefined {
  for (let i = 0; i < flat.length; i += 2) if (flat[i]!.toLowerCase() === name) return flat[i + 1];
  return undefined;
}
