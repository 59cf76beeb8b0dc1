// One health probe of one target: an HTTP GET that must answer 2xx (or the expected status), or a
// TCP connect when the app asks for `tcp: true`.
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ProbeResult, Prober } from '../../core/prober.js';

/** A failed connection in words a status message can carry. */
export function socketProblem(e: NodeJS.ErrnoException): string {
  return e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ECONNRESET' ? 'connection reset' : e.message;
}

export const httpProber: Prober = {
  probe: (address, health) =>
    new Promise<ProbeResult>((resolve) => {
      const req = request(
        { host: address.host, port: address.port, path: health.path, method: 'GET', timeout: health.timeoutMs, agent: false, headers: { 'user-agent': 'switchyard-health' } },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          const ok = health.expectStatus !== undefined ? status === health.expectStatus : status >= 200 && status < 300;
          resolve({ ok, detail: `HTTP ${status} on ${health.path}${health.expectStatus !== undefined && !ok ? ` (expected ${health.expectStatus})` : ''}` });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${health.timeoutMs}ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, detail: socketProblem(e) }));
      req.end();
    }),
};

export const tcpProber: Prober = {
  probe: (address, health) =>
    new Promise<ProbeResult>((resolve) => {
      const socket = connect({ host: address.host, port: address.port, timeout: health.timeoutMs });
      const done = (result: ProbeResult) => {
        socket.destroy();
        resolve(result);
      };
      socket.on('connect', () => done({ ok: true, detail: 'TCP connect' }));
      socket.on('timeout', () => done({ ok: false, detail: `no TCP connect within ${health.timeoutMs}ms` }));
      socket.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, detail: socketProblem(e) }));
    }),
};

/** The prober the app asked for. */
export const healthProber: Prober = {
  probe: (address, health) => (health.tcp ? tcpProber : httpProber).probe(address, health),
};
