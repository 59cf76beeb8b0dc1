// The fault test: the agent is killed (SIGKILL) at a random moment of a flip that also replaces the
// new color's targets, 20 times, under steady load. After each kill a new agent must converge on the
// newest commit: exactly the desired targets, no orphans, only running targets routed. No request
// through the proxy may fail at any point. The moments are drawn from a seeded generator (printed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDocker, DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { startAgent, tearDown, type AgentProcess } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/backend.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { get, startLoad } from '../support/load.js';
import { instanceName, stateDir as newStateDir, testImages, until } from '../support/run.js';

const KILLS = 20;
const SEED = Number(process.env.SWITCHYARD_FAULT_SEED ?? Date.now() % 1_000_000);

/** mulberry32: small, seeded, good enough to spread kill moments. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`crash safety: SIGKILL at a random moment of a flip, ${KILLS} times (seed ${SEED})`, () => {
  const instance = instanceName();
  const stateDir = newStateDir();
  const runtime = new DockerRuntime(connectDocker(), instance);
  const next = random(SEED);
  let repo: TestRepo;
  let server: GitServer;
  let agent: AgentProcess;
  let listen: number;
  const args = () => ['--repo', `${server.url}/desired.git`, '--interval', '200ms', '--instance', instance, '--state-dir', stateDir, '--log-level', 'info'];
  const yaml = (active: 'blue' | 'green', i: number) =>
    appYaml({ listen, active, blueImage: testImages().ok, greenImage: testImages().ok, replicas: 2, greeting: { blue: `blue-${i}`, green: `green-${i}` } });

  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    listen = await freePort();
    repo.commit('start', { 'apps/web.yaml': yaml('blue', 0) });
    agent = await startAgent(args());
    await until('blue to serve', async () => ((await get(listen).catch(() => undefined))?.body.startsWith('blue-0') ? true : undefined));
  });
  afterAll(() => tearDown({ agent, stateDir, instance, server, repo, runtime }));

  it('converges after every kill, with no orphan, no route to a dead target and no failed request', async () => {
    const load = startLoad(listen, 4);
    const kills: number[] = [];
    for (let i = 1; i <= KILLS; i++) {
      const to = i % 2 ? 'green' : 'blue';
      // A flip that also replaces the new color's targets: create, gate, switch, drain, remove.
      const commit = repo.commit(`flip ${i} to ${to}`, { 'apps/web.yaml': yaml(to, i) });
      const wait = Math.floor(next() * 1500);
      kills.push(wait);
      await new Promise((r) => setTimeout(r, wait));
      await agent.stop('SIGKILL');
      agent = await startAgent(args());
      const st = await until(`convergence after kill ${i} (at ${wait} ms)`, async () => {
        const s = (await agent.status()).apps.web;
        const ready = s?.lastAppliedCommit === commit && s.activeColor === to && s.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
        // The target list is refreshed at the end of a pass: converged means that too.
        return ready && s.targets[to].filter((t) => t.routed).length === 2 ? s : undefined;
      });
      const live = await runtime.list();
      expect(live.filter((t) => !t.running)).toEqual([]);
      expect(live.map((t) => `${t.color}${t.replica}`).sort()).toEqual(['blue0', 'blue1', 'green0', 'green1']);
      const routed = st.targets[to].filter((t) => t.routed);
      expect(routed).toHaveLength(2);
      expect((await get(listen)).body).toBe(`${to}-${i} from web ok (${to})\n`);
    }
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(counts.ok).toBeGreaterThan(KILLS * 10);
    // Printed for the record: when each kill happened after its commit.
    process.stdout.write(`fault test seed ${SEED}: kills at ${kills.join(', ')} ms; ${counts.ok} requests, ${counts.failed} failed\n`);
  }, 600_000);
});
