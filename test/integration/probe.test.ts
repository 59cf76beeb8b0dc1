import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/core/app.js';
import { healthProber } from '../../src/adapters/probe/http-prober.js';
import { freePort } from '../support/ports.js';

describe('health probes against real sockets', () => {
  const health = { ...DEFAULTS.health, path: '/healthz', timeoutMs: 1000 };

  it('passes 2xx by default, or exactly the expected status', async () => {
    const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 204 : 404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
    expect(await healthProber.probe(address, health)).toEqual({ ok: true, detail: 'HTTP 204 on /healthz' });
    expect(await healthProber.probe(address, { ...health, expectStatus: 200 })).toEqual({ ok: false, detail: 'HTTP 204 on /healthz (expected 200)' });
    expect(await healthProber.probe(address, { ...health, path: '/nope' })).toMatchObject({ ok: false });
    expect(await healthProber.probe(address, { ...health, tcp: true })).toEqual({ ok: true, detail: 'TCP connect' });
    await new Promise((r) => server.close(r));
  });

  it('fails on a closed port, over HTTP and TCP alike', async () => {
    const address = { host: '127.0.0.1', port: await freePort() };
    expect(await healthProber.probe(address, health)).toEqual({ ok: false, detail: 'connection refused' });
    expect(await healthProber.probe(address, { ...health, tcp: true })).toEqual({ ok: false, detail: 'connection refused' });
  });
});
