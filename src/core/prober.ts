// The health probe as the gate sees it: one check of one target. The HTTP/TCP prober is an adapter
// (adapters/probe); tests pass a fake.
import type { HealthSpec } from './app.js';

export interface ProbeResult {
  ok: boolean;
  /** What the probe saw, for status messages: "HTTP 200", "HTTP 404", "connection refused"... */
  detail: string;
}

export interface Prober {
  probe(address: { host: string; port: number }, health: HealthSpec): Promise<ProbeResult>;
}
