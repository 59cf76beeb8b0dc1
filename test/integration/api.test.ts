// The agent's API over real HTTP: auth rules, and the push webhook with real HMAC signatures.
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startApi, type ApiHandlers } from '../../src/api/api.js';

const TOKEN = 'test-token-0123456789abcdef';
const SECRET = 'webhook-secret';

function handlers() {
  const calls: string[] = [];
  const h: ApiHandlers = {
    status: () => ({ instance: 't', source: { description: 'x' }, desired: { errors: [] }, apps: {} }),
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
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));
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

  it('says the webhook is off when no secret is configured', async () => {
    const { call } = await start();
    const r = await call('POST', '/hooks/git', { body: '{}' });
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ hint: expect.stringMatching(/webhookSecret/) });
  });
});
