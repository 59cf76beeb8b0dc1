// The API off loopback, on the real agent process: it refuses to start there without a token (and
// before it starts anything), and with one it answers no call that lacks it, reads included. On
// loopback the token it generates is an owner-only file that the CLI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateFiles } from '../../src/commands/state-files.js';
import { proxyFiles } from '../../src/adapters/dataplane/proxy-files.js';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { testImages } from '../support/run.js';

const TOKEN = 'an-api-token-of-32-characters-ok';

describe('the API token', () => {
  const w = new E2eWorld();
  let listen: number;
  beforeAll(async () => {
    listen = await freePort();
    await w.serve({ 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok }) });
  });
  afterAll(() => w.tearDown());

  it('refuses to serve the API on a non-loopback address without a token, and starts nothing', async () => {
    const r = spawnSync(process.execPath, ['bin/switchyard.js', 'run', '--repo', `${w.server.url}/desired.git`, '--instance', w.instance, '--state-dir', w.stateDir, '--api', '0.0.0.0:0'], {
      encoding: 'utf8', env: { ...process.env, SWITCHYARD_API_TOKEN: '' }, timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/the API binds 0\.0\.0\.0, not loopback, and has no token/);
    expect(r.stderr).toMatch(/apiToken .* SWITCHYARD_API_TOKEN/);
    expect(existsSync(proxyFiles(w.stateDir, w.instance).socket)).toBe(false);
    expect(await w.runtime.list()).toEqual([]);
  });

  it('asks for the token on every call off loopback, reads included', async () => {
    const port = await freePort();
    // Bound on every address (that is what makes it non-loopback); this test only ever calls 127.0.0.1.
    await w.start('1h', { SWITCHYARD_API_TOKEN: TOKEN }, ['--api', `0.0.0.0:${port}`]);
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const [method, path] of [['GET', '/status'], ['GET', '/history'], ['GET', '/metrics'], ['POST', '/sync'], ['POST', '/apps/web/suspend']] as const) {
      const denied = await fetch(`${base}${path}`, { method });
      expect([path, denied.status]).toEqual([path, 401]);
      expect((await fetch(`${base}${path}`, { method, headers: { authorization: 'Bearer wrong-token-wrong-token-wrong' } })).status).toBe(401);
    }
    expect((await fetch(`${base}/status`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${base}/sync`, { method: 'POST', headers: auth })).status).toBeLessThan(300);
    expect(JSON.stringify(w.agent.logs)).not.toContain(TOKEN);
    await w.agent.stop();
  });

  it('generates the loopback token as an owner-only file the CLI reads', async () => {
    await w.start('1h', { SWITCHYARD_API_TOKEN: '' });
    const file = stateFiles(w.stateDir, w.instance).apiToken;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await fetch(`${w.agent.apiUrl}/sync`, { method: 'POST' })).status).toBe(401);
    const cli = spawnSync(process.execPath, ['bin/switchyard.js', 'sync', '--api', new URL(w.agent.apiUrl).host, '--state-dir', w.stateDir, '--instance', w.instance], { encoding: 'utf8', env: { ...process.env, SWITCHYARD_API_TOKEN: '' } });
    expect([cli.status, cli.stderr]).toEqual([0, '']);
  });
});
