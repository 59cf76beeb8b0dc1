// The agent's client of the proxy process against a proxy of an earlier version (it outlives agent
// upgrades): one that knows only one app's counters at a time.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteRouter } from '../../src/adapters/dataplane/remote-router.js';
import { sendJson } from '../../src/core/http-json.js';

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r) ?? r(undefined));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('RemoteRouter', () => {
  it('reads every app\'s counters from a proxy without GET /traffic, one app at a time', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-remote-'));
    const socketPath = join(dir, 'old.sock');
    const asked: string[] = [];
    server = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      if (req.url === '/routes') return sendJson(res, 200, [{ app: 'web' }, { app: 'shop' }]);
      const app = /^\/counters\/(\w+)$/.exec(req.url ?? '')?.[1];
      if (app) return sendJson(res, 200, { blue: { requests: app.length, errors5xx: 0, inFlight: 0 } });
      sendJson(res, 404, { code: 'UsageError', message: `no control route ${req.method} ${req.url}` });
    });
    await new Promise<void>((r) => server!.listen(socketPath, r));
    const traffic = await new RemoteRouter(socketPath).traffic();
    expect(traffic).toEqual({ web: { blue: { requests: 3, errors5xx: 0, inFlight: 0 } }, shop: { blue: { requests: 4, errors5xx: 0, inFlight: 0 } } });
    expect(asked.sort()).toEqual(['GET /counters/shop', 'GET /counters/web', 'GET /routes', 'GET /traffic']);
  });
});
