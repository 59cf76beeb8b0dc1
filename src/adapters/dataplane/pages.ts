// The answers the data plane gives itself, not an app: short, the same on every entrypoint, and never
// naming anything internal (no app, color, target or version).
import type { ServerResponse } from 'node:http';
import { htmlPage } from '../../core/page.js';

export function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string | number> = {}): void {
  send(res, status, body, { 'content-type': 'text/plain; charset=utf-8', ...headers });
}

/** A small HTML page: maintenance, a body over the limit, an answer that took too long. */
export function page(res: ServerResponse, status: number, title: string, message: string, headers: Record<string, string | number> = {}): void {
  send(res, status, htmlPage(title, message), { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
}

/** A whole answer, or (when the app's answer had begun) the connection cut: no status can follow one. */
function send(res: ServerResponse, status: number, body: string, headers: Record<string, string | number>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function notFound(res: ServerResponse): void {
  reply(res, 404, 'not found\n');
}

/** A permanent redirect that keeps the method and body (308), to the same host and path over HTTPS. */
export function toHttps(res: ServerResponse, host: string, httpsPort: number, url: string): void {
  const location = `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}${url}`;
  res.writeHead(308, { location, 'content-length': 0 });
  res.end();
}
