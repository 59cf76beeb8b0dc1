// One health probe of one target. HttpProber is the real one (a GET that must answer 2xx).
import { request } from 'node:http';
import type { HealthSpec } from '../desired/app.js';

export interface ProbeResult {
  ok: boolean;
  /** What the probe saw, for status messages: "HTTP 200", "HTTP 404", "connection refused"... */
  detail: string;
}

export interface Prober {
  probe(address: { host: string; port: number }, health: HealthSpec): Promise<ProbeResult>;
}

export const httpProber: Prober = {
  probe: (address, health) =>
    new Promise<ProbeResult>((resolve) => {
      const req = request(
        { host: address.host, port: address.port, path: health.path, method: 'GET', timeout: health.timeoutMs, agent: false, headers: { 'user-agent': 'switchyard-health' } },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          resolve({ ok: status >= 200 && status < 300, detail: `HTTP ${status} on ${health.path}` });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${health.timeoutMs}ms`)));
      req.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ ok: false, detail: e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ECONNRESET' ? 'connection reset' : e.message }),
      );
      req.end();
    }),
};
