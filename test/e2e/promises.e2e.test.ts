// What the README promises an operator, on the real agent process: a signed push webhook makes it fetch
// at once (the poll interval is an hour here, so nothing else could), `notifyUrl` gets a JSON POST for a
// flip and for a failure, `switchyard wait` exits 0 for a live commit, 1 for a failed one and 3 at its
// timeout, and the stale alarm shows in `switchyard status` and as `switchyard_stale 1`.
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { get } from '../support/load.js';
import { testImages, until } from '../support/run.js';

const SECRET = 'promises-webhook-secret';

/** `switchyard <verb>` against the world's agent, as an operator runs it. */
function cli(w: E2eWorld, ...args: string[]) {
  const api = new URL(w.agent.apiUrl).host;
  const r = spawnSync(process.execPath, ['bin/switchyard.js', ...args, '--api', api, '--state-dir', w.stateDir, '--instance', w.instance], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('what the README promises an operator', () => {
  const w = new E2eWorld();
  let listen: number;
  let notifier: Server;
  const notes: Record<string, unknown>[] = [];

  beforeAll(async () => {
    listen = await freePort();
    notifier = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        notes.push({ contentType: req.headers['content-type'], ...(JSON.parse(body) as Record<string, unknown>) });
        res.end();
      });
    });
    await new Promise<void>((r) => notifier.listen(0, '127.0.0.1', r));
    await w.serve({ 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok }) });
    await w.start('1h', { SWITCHYARD_WEBHOOK_SECRET: SECRET, SWITCHYARD_NOTIFY_URL: `http://127.0.0.1:${(notifier.address() as { port: number }).port}/hook` });
  });
  afterAll(async () => {
    await w.tearDown();
    await new Promise((r) => notifier.close(r));
  });

  /** A signed push, as a forge sends it: on a connection of its own (a kept-alive one may be closed under it). */
  const push = async (id: string) => {
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const url = new URL(`${w.agent.apiUrl}/hooks/git`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`, 'x-github-delivery': id, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(202);
  };

  it('applies a commit at once on a signed push, notifies the flip as JSON, and `wait` exits 0 for it', async () => {
    const first = await until('the first apply to be notified', () => notes.find((n) => n.event === 'applied'));
    expect(first).toMatchObject({ contentType: 'application/json', instance: w.instance, app: 'web', color: 'blue' });
    const flip = w.repo.commit('web: flip to green', { 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok, active: 'green' }) });
    await push('delivery-1');
    await until('green to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('(green)') ? true : undefined));
    expect(await until('the flip to be notified', () => notes.find((n) => n.event === 'applied' && n.commit === flip))).toMatchObject({ app: 'web', color: 'green' });
    expect(cli(w, 'wait', '--commit', flip, '--timeout', '1m').code).toBe(0);
  });

  it('notifies a failed flip with its reason, and `wait` exits 1 for that commit and 3 at its timeout', async () => {
    const bad = w.repo.commit('web: a green that never gets healthy', {
      'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().sick, active: 'blue' }).replace('startTimeout: 20s', 'startTimeout: 2s'),
    });
    await push('delivery-2');
    const failed = await until('the failure to be notified', () => notes.find((n) => n.event === 'failed' && n.commit === bad));
    expect(failed).toMatchObject({ app: 'web', reason: 'HealthCheckFailed', message: expect.stringMatching(/green is not healthy/) });
    expect(cli(w, 'wait', '--commit', bad, '--timeout', '1m')).toMatchObject({ code: 1 });
    const never = 'f'.repeat(40);
    const timedOut = cli(w, 'wait', '--commit', never, '--timeout', '2s');
    expect(timedOut.code).toBe(3);
    expect(timedOut.stderr).toMatch(/is not live after 2s/);
  });

  it('raises the stale alarm in `switchyard status` and as switchyard_stale 1 when the source stays unreachable', async () => {
    // A second agent on the same repository, polling fast, whose git server then goes away.
    const v = new E2eWorld();
    try {
      await v.serve({ 'apps/web.yaml': appYaml({ listen: await freePort(), blueImage: testImages().ok, greenImage: testImages().ok }) });
      const config = join(v.stateDir, 'agent.yaml');
      writeFileSync(config, 'staleAfter: 2\n');
      await v.start('200ms', {}, ['--config', config]);
      await until('a first good pass', async () => ((await v.agent.status()).lastSuccessAt ? true : undefined));
      await v.server.close();
      await until('the stale alarm', async () => ((await v.agent.status()).stale ? true : undefined));
      const status = cli(v, 'status');
      expect(status.stdout).toMatch(/^STALE: no pass has succeeded since /m);
      const metrics = await (await fetch(`${v.agent.apiUrl}/metrics`)).text();
      expect(metrics).toMatch(/^switchyard_stale 1$/m);
    } finally {
      await v.tearDown();
    }
  });
});
