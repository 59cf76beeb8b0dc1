// bench:guard: for each router driver, the real agent on a real git server and Docker, with 20 clients
// on kept-alive connections, flips to a green that fails one request to / in four; the guard (window 2m,
// maxErrorRate 5%, minRequests 50) flips back. One JSON line per driver, as the clients saw it:
// rollbackMs (the first bad answer to the last answer from green), failedBetween (the 500s in that
// time), greenAnswers, requests, and the guard's own figures from its message.
//   npm run bench:guard [-- --runs 3]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectDocker } from '../src/adapters/docker/connect.js';
import { DockerRuntime } from '../src/adapters/docker/containers.js';
import { startAgent } from '../test/support/agent-process.js';
import { appYaml } from '../test/support/app-yaml.js';
import { FLAKY_COMMAND } from '../test/support/flaky-app.js';
import { startGitServer, TestRepo } from '../test/support/git-server.js';
import { get, keepAliveAgent } from '../test/support/load.js';
import { endRun, freePort, need, until } from './support.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
need('haproxy', 'haproxy');

async function benchDriver(driver: 'embedded' | 'haproxy', run: number) {
  const instance = `bench-guard-${driver}-${process.pid}-${run}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'sy-guard-'));
  const repo = new TestRepo();
  const server = await startGitServer(repo.root);
  const listen = await freePort();
  const runtime = new DockerRuntime(connectDocker(), instance);
  const yaml = (active: 'blue' | 'green', more = '') =>
    `${appYaml({ listen, active, blueImage: 'switchyard-example/hello:1.0', greenImage: 'switchyard-example/hello:1.0', replicas: 2, greeting: { blue: 'hello', green: 'flaky' } })}${FLAKY_COMMAND}${more}`;
  repo.commit('bench: blue', { 'apps/web.yaml': yaml('blue') });
  const agent = await startAgent(['--repo', `${server.url}/desired.git`, '--interval', '200ms', '--instance', instance, '--state-dir', stateDir, '--router', driver, '--log-level', 'info']);
  try {
    await until('blue to serve', async () => ((await get(listen)).body.includes('(blue)') ? true : undefined));
    const answers: { at: number; color: string; status: number }[] = [];
    let stopped = false;
    const pool = keepAliveAgent(listen, 20);
    const client = async () => {
      while (!stopped) {
        const r = await get(listen, pool).catch(() => ({ status: 0, body: '' }));
        answers.push({ at: performance.now(), color: /\((blue|green)\)/.exec(r.body)?.[1] ?? 'none', status: r.status });
      }
    };
    const clients = Array.from({ length: 20 }, client);
    await until('traffic', async () => (answers.length >= 200 ? true : undefined));
    const commit = repo.commit('bench: flaky green, guarded', { 'apps/web.yaml': yaml('green', 'guard: { window: 2m, maxErrorRate: 5%, minRequests: 50 }\n') });
    const message = await until('the guard to trip', async () => {
      const app = (await agent.status()).apps.web;
      const stalled = app?.lastAttemptedCommit === commit ? app.conditions.find((c) => c.type === 'Stalled' && c.reason === 'GuardFailed') : undefined;
      return stalled?.message;
    });
    const after = answers.length;
    await until('answers after the rollback', async () => (answers.length >= after + 500 ? true : undefined));
    stopped = true;
    await Promise.all(clients);
    pool.destroy();
    const firstBad = answers.find((a) => a.status === 500)!;
    const lastGreen = answers.filter((a) => a.color === 'green').at(-1)!;
    const between = answers.filter((a) => a.at >= firstBad.at && a.at <= lastGreen.at);
    return {
      bench: 'guard',
      driver,
      run,
      rollbackMs: Math.round(lastGreen.at - firstBad.at),
      failedBetween: between.filter((a) => a.status !== 200).length,
      answeredBetween: between.length,
      greenAnswers: answers.filter((a) => a.color === 'green').length,
      failedOutside: answers.filter((a) => a.status !== 200 && (a.at < firstBad.at || a.at > lastGreen.at)).length,
      requests: answers.length,
      guard: message,
    };
  } finally {
    await endRun({ agent, driver, stateDir, instance, runtime, server, repo });
  }
}

for (let run = 1; run <= RUNS; run++) {
  for (const driver of ['embedded', 'haproxy'] as const) console.log(JSON.stringify(await benchDriver(driver, run)));
}
