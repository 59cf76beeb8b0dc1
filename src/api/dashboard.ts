// The dashboard's files (dashboard/ at the package's root: a page, a script, a style sheet, no build
// step), served by the API as they are, and the security headers every API answer carries. The files
// hold no data: the page reads GET /status and /history like any client, so serving them needs no token.
import type { ServerResponse } from 'node:http';

export interface StaticFile {
  type: string;
  body: Buffer;
}

/** The dashboard's files by URL path. */
export type DashboardFiles = ReadonlyMap<string, StaticFile>;

/**
 * On every answer: scripts and styles from the agent only (no inline script, no eval), nothing framed
 * (clickjacking), no type sniffing, no referrer leaving the page.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
});

/** Answers a GET of a dashboard file; false when `path` is none of them. */
export function serveDashboard(files: DashboardFiles | undefined, path: string, res: ServerResponse): boolean {
  const file = files?.get(path === '/' ? '/index.html' : path);
  if (!file) return false;
  res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'no-cache' });
  res.end(file.body);
  return true;
}
