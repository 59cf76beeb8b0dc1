// The agent's API over real HTTP: auth rules, and the push webhook with real HMAC signatures.
import { createHmac } from 'node:crypto';
import { request, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startApi, type ApiHandlers } from '../../src/api/api.js';
import { dashboardFiles } from '../../src/commands/dashboard-files.js';

const TOKEN = 'test-token-0123456789abcdef';
const SECRET = 'webhook-secret';

function handlers() {
  const calls: string[] = [];
  const h: ApiHandlers = {
    status: async () => ({ instance: 't', source: { description: 'x' }, desired: { errors: [] }, apps: {} }),
    history: async () => [],
    sync: () => void calls.push('sync'),
    suspend: async (app) => (calls.push(`suspend ${app}`), app === 'web'),
    resume: async (app) => (calls.push(`resume ${app}`), app === 'web'),
    pushed: (provider) => void calls.push(`pushed ${provider}`),
    metrics: async () => ({ contentType: 'text/plain', body: 'switchyard_stale 0\n' }),
  };
  return { h, calls };
}

describe('agent API', () => {
  let server: Server | undefined;
  // Kept-alive connections (fetch keeps them) would hold close() for the keep-alive timeout: end them.
  afterEach(() => new Promise<void>((r) => (server ? (server.close(() => r()), server.closeAllConnections()) : r())));
  async function start(webhookSecret?: string) {
    const { h, calls } = handlers();
    const api = await startApi(h, { host: '127.0.0.1', port: 0, token: TOKEN, ...(webhookSecret ? { webhookSecret } : {}) });
    server = api.server;
    const call = (method: string, path: string, init: { token?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) =>
      fetch(`${api.url}${path}`, { method, headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers }, ...(init.body ? { body: init.body } : {}) });
    return { call, calls };
  }

  it('serves reads on loopback without a token, and refuses every change without the right one', async () => {
    const { call, calls } = await start();
    expect((await call('GET', '/status')).status).toBe(200);
    expect((await call('GET', '/metrics')).status).toBe(200);
    for (const path of ['/sync', '/apps/web/suspend', '/apps/web/resume']) {
      expect((await call('POST', path)).status).toBe(401);
      expect((await call('POST', path, { token: 'wrong-token-0123456789' })).status).toBe(401);
    }
    expect(calls).toEqual([]);
    expect((await call('POST', '/sync', { token: TOKEN })).status).toBe(202);
    expect((await call('POST', '/apps/web/suspend', { token: TOKEN })).status).toBe(200);
    expect((await call('POST', '/apps/nope/resume', { token: TOKEN })).status).toBe(404);
    expect(calls).toEqual(['sync', 'suspend web', 'resume nope']);
  });

  it('answers tokenless reads only for loopback Host names (a DNS-rebinding guard), unless configured', async () => {
    const { h } = handlers();
    const api = await startApi(h, { host: '127.0.0.1', port: 0, token: TOKEN });
    server = api.server;
    const port = Number(new URL(api.url).port);
    for (const host of ['localhost:7070', '127.0.0.1', '[::1]:7070']) expect((await rawGet(port, '/status', host)).status, host).toBe(200);
    const rebound = await rawGet(port, '/status', 'attacker.example:7070');
    expect(rebound.status).toBe(401);
    expect(JSON.parse(rebound.body)).toMatchObject({ code: 'Unauthorized', error: 'a request naming Host "attacker.example" needs the bearer token', hint: expect.stringMatching(/apiAllowedHosts/) });
    expect((await rawGet(port, '/status', 'attacker.example:7070', TOKEN)).status).toBe(200);
    server.close();
    const configured = await startApi(h, { host: '127.0.0.1', port: 0, token: TOKEN, allowedHosts: ['switchyard.internal'] });
    server = configured.server;
    expect((await rawGet(Number(new URL(configured.url).port), '/status', 'switchyard.internal:7070')).status).toBe(200);
  });

  it('takes each webhook delivery once: a redelivery or a replay with the same delivery id triggers nothing more', async () => {
    const { call, calls } = await start(SECRET);
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const deliver = (id: string) => call('POST', '/hooks/git', { headers: { 'x-hub-signature-256': sig, 'x-github-delivery': id }, body });
    expect((await deliver('d-1')).status).toBe(202);
    const again = await deliver('d-1');
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ accepted: true, duplicate: true });
    expect((await deliver('d-2')).status).toBe(202);
    expect((await call('POST', '/hooks/git', { headers: { 'x-gitlab-token': SECRET, 'x-gitlab-event-uuid': 'g-1' }, body })).status).toBe(202);
    expect((await call('POST', '/hooks/git', { headers: { 'x-gitlab-token': SECRET, 'x-gitlab-event-uuid': 'g-1' }, body })).status).toBe(202);
    expect(calls).toEqual(['pushed github', 'pushed github', 'pushed gitlab']);
  });

  it('accepts a push signed by GitHub (HMAC-SHA256 of the raw body) or GitLab (token), and nothing else', async () => {
    const { call, calls } = await start(SECRET);
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'abc' });
    const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    expect((await call('POST', '/hooks/git', { headers: { 'x-hub-signature-256': sig, 'content-type': 'application/json' }, body })).status).toBe(202);
    expect((await call('POST', '/hooks/git', { headers: { 'x-gitlab-token': SECRET }, body })).status).toBe(202);
    // Unsigned, a signature of another body, a wrong key, a wrong GitLab token:
    expect((await call('POST', '/hooks/git', { body })).status).toBe(401);
    expect((await call('POST', '/hooks/git', { headers: { 'x-hub-signature-256': sig }, body: `${body} ` })).status).toBe(401);
    const wrongKey = `sha256=${createHmac('sha256', 'other').update(body).digest('hex')}`;
    expect((await call('POST', '/hooks/git', { headers: { 'x-hub-signature-256': wrongKey }, body })).status).toBe(401);
    expect((await call('POST', '/hooks/git', { headers: { 'x-gitlab-token': 'nope' }, body })).status).toBe(401);
    expect(calls).toEqual(['pushed github', 'pushed gitlab']);
  });

  it('refuses an oversized webhook body before checking it', async () => {
    const { call, calls } = await start(SECRET);
    const big = Buffer.alloc(1024 * 1024 + 1, 'x');
    const sig = `sha256=${createHmac('sha256', SECRET).update(big).digest('hex')}`;
    expect((await call('POST', '/hooks/git', { headers: { 'x-hub-signature-256': sig }, body: big })).status).toBe(413);
    expect(calls).toEqual([]);
  });

  it('serves the dashboard\'s files to anyone (they hold no data), and the security headers on every answer', async () => {
    const { h } = handlers();
    const api = await startApi(h, { host: '0.0.0.0', port: 0, token: TOKEN, dashboard: dashboardFiles() });
    server = api.server;
    const port = Number(new URL(api.url).port);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toMatch(/<script src="\/dashboard\.js" defer><\/script>/);
    // No inline script or style anywhere in the page: the CSP forbids them.
    expect(html).not.toMatch(/<script>|<style|style="|\son[a-z]+="/);
    for (const path of ['/dashboard.js', '/dashboard.css']) expect((await fetch(`http://127.0.0.1:${port}${path}`)).status).toBe(200);
    // Off loopback the data itself still needs the token; the 401 carries the headers as well.
    const status = await fetch(`http://127.0.0.1:${port}/status`);
    expect(status.status).toBe(401);
    for (const r of [page, status, await fetch(`http://127.0.0.1:${port}/nothing-here`)]) {
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'.*frame-ancestors 'none'/);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  it('says the webhook is off when no secret is configured', async () => {
    const { call } = await start();
    const r = await call('POST', '/hooks/git', { body: '{}' });
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ hint: expect.stringMatching(/webhookSecret/) });
  });
});

/** A GET with a Host header of our choosing (fetch does not let a caller set Host). */
function rawGet(port: number, path: string, host: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
