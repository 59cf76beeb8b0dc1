// `switchyard status --watch` as the built CLI: it redraws from the API until Ctrl-C, shows a change
// without being run again, says when the agent does not answer, and exits 0 on SIGINT.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/run.js';

const CLEAR = '\x1b[H\x1b[2J';

describe('switchyard status --watch (CLI)', () => {
  let calls = 0;
  let down = false;
  const server = createServer((_req, res) => {
    calls++;
    if (down) return void res.writeHead(503).end('{"error":"restarting"}');
    const color = calls < 3 ? 'blue' : 'green';
    const app = { name: 'web', file: 'apps/web.yaml', desiredColor: 'green', activeColor: color, conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: `serving ${color}`, lastTransitionTime: '' }], targets: { blue: [], green: [] }, traffic: {} };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ instance: 'x', source: { description: 'test@main' }, desired: { errors: [] }, apps: { web: app } }));
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('redraws until SIGINT, shows the flip without a new run, says when the agent is down, and exits 0', async () => {
    const child = spawn(process.execPath, ['bin/switchyard.js', 'status', '--watch', '--interval', '200ms', '--api', `127.0.0.1:${port}`, '--token', 't'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until('blue, then green', () => (/serving green/.test(out) ? true : undefined));
    down = true;
    await until('the agent down, said on screen', () => (/the agent does not answer: /.test(out) ? true : undefined));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const frames = out.split(CLEAR).filter(Boolean);
    expect(frames.length).toBeGreaterThanOrEqual(4);
    expect(frames[0]).toMatch(/^APP +ACTIVE +DESIRED[\s\S]*web +blue +green +True[\s\S]*, every 0\.2s; Ctrl-C to stop\n$/);
    expect(frames.some((f) => /web +green +green +True/.test(f))).toBe(true);
  });
});
