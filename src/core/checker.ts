// A smoke check as the executor sees it: one request, sent where the executor says (the data plane's
// preview route for the new color, or a target itself before any route exists), and what came back.
// The HTTP implementation is an adapter (adapters/probe/http-checker.ts); tests pass a fake.
import type { CheckSpec } from './app.js';

/** Where a check request goes: an address, the headers that steer it (Host, the preview header), TLS with a name. */
export interface CheckTarget {
  host: string;
  port: number;
  /** Prepended to the check's path (an app served under a path prefix). */
  pathPrefix: string;
  headers: Record<string, string>;
  /** Over TLS, with this server name (SNI); the certificate is not verified: the agent talks to its own data plane. */
  tls?: { servername: string };
}

export interface CheckResult {
  ok: boolean;
  /** The status got, when an answer came. */
  status?: number;
  /** The start of the body, for the message. */
  excerpt?: string;
  /** Why it failed, in words: "got 500, expected 200", "body lacks \"ok\"", "connection refused". */
  why?: string;
}

export interface Checker {
  check(target: CheckTarget, check: CheckSpec): Promise<CheckResult>;
}
