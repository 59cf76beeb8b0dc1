// The fault test: the agent is killed (SIGKILL) at a random moment of a flip that also replaces the
// new color's targets, 14 times, then of a rolling replacement of the serving color, 6 times, under
// steady load. After each kill a new agent must converge on the newest commit: exactly the desired
// targets, no orphans, only running targets routed. No request through the proxy may fail at any
// point. The moments are drawn from a seeded generator (printed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Color } from '../../src/core/app.js';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { commitLive, startAgent, tearDown, type AgentProcess } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';
import { get, startLoad } from '../support/load.js';
import { instanceName, stateDir as newStateDir, testImages, until } from '../support/run.js';

// Counts sized to keep `npm test` within its budget; a longer run: SWITCHYARD_FAULT_FLIPS=50 SWITCHYARD_FAULT_ROLLS=20.
const FLIP_KILLS = Number(process.env.SWITCHYARD_FAULT_FLIPS ?? 10);
const ROLL_KILLS = Number(process.env.SWITCHYARD_FAULT_ROLLS ?? 5);
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

/**
 * Each test is about kills in the middle of the work: at least one in seven must land there, or it proved
 * little. With half the kills timed from the start of the work, about half do.
 */
const enoughMidway = (kills: { midway: boolean }[]) => expect(kills.filter((k) => k.midway).length).toBeGreaterThanOrEqual(Math.ceil(kills.length / 7));

/** When each kill happened after its commit or its start (* marks a kill in the middle of the commit's work). */
const report = (kills: { wait: number; midway: boolean }[]) =>
  `kills at ${kills.map((k) => `${k.wait}${k.midway ? '*' : ''}`).join(', ')} ms, ${kills.filter((k) => k.midway).length} of ${kills.length} in the middle of the work`;

describe(`crash safety: SIGKILL at a random moment of a flip (${FLIP_KILLS} times) and of a roll (${ROLL_KILLS} times), seed ${SEED}`, () => {
  const instance = instanceName();
  const stateDir = newStateDir();
  const runtime = new DockerRuntime(connectDocker(), instance);
  const next = random(SEED);
  let repo: TestRepo;
  let server: GitServer;
  let agent: AgentProcess;
  let listen: number;
  const args = () => ['--repo', `${server.url}/desired.git`, '--interval', '200ms', '--instance', instance, '--state-dir', stateDir, '--log-level', 'info'];
  const yaml = (active: Color, greeting: Record<Color, string>) =>
    appYaml({ listen, active, blueImage: testImages().ok, greenImage: testImages().ok, replicas: 2, greeting });

  /**
   * Commits `file`, kills the agent at a random moment of the work it causes, starts a new one and waits
   * for it to converge: exactly the desired targets, no orphans, only running targets routed. Returns the
   * kill's delay after the commit, and whether the killed agent was in the middle of the commit's work.
   */
  const commitAndKill = async (what: string, active: Color, greeting: Record<Color, string>): Promise<{ wait: number; midway: boolean }> => {
    const commit = repo.commit(what, { 'apps/web.yaml': yaml(active, greeting) });
    const said = (msg: string) => agent.logs.some((l) => l.msg === msg && l.commit === commit);
    // Half the kills come at a random moment after the commit (before the agent saw it, during, or after
    // the work), half at a random moment after the agent began the work: so that, whatever this machine's
    // speed, enough of them land in its middle.
    const fromStart = next() < 0.5;
    if (fromStart) await until('the work to begin', () => (said('reconciling') ? true : undefined));
    const wait = Math.floor(next() * (fromStart ? 800 : 1500));
    await new Promise((r) => setTimeout(r, wait));
    await agent.stop('SIGKILL');
    const midway = said('reconciling') && !said('reconciled');
    agent = await startAgent(args());
    const st = await until(`convergence after "${what}" (killed at ${wait} ms)`, async () => {
      const s = (await agent.status()).apps.web;
      const ready = s?.lastAppliedCommit === commit && s.activeColor === active && s.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      // The target list is refreshed at the end of a pass: converged means that too.
      return ready && s.targets[active].filter((t) => t.routed).length === 2 ? s : undefined;
    });
    const live = await runtime.list();
    expect(live.filter((t) => !t.running)).toEqual([]);
    expect(live.map((t) => `${t.color}${t.replica}`).sort()).toEqual(['blue0', 'blue1', 'green0', 'green1']);
    // Every running target has the newest spec: none is left over from an interrupted flip or roll.
    expect(new Set(live.map((t) => t.specHash)).size).toBe(2);
    expect(st.targets[active].filter((t) => t.routed)).toHaveLength(2);
    expect((await get(listen)).body).toBe(`${greeting[active]} from web ok (${active})\n`);
    return { wait, midway };
  };

  beforeAll(async () => {
    repo = new TestRepo();
    server = await startGitServer(repo.root);
    listen = await freePort();
    repo.commit('start', { 'apps/web.yaml': yaml('blue', { blue: 'blue-0', green: 'green-0' }) });
    agent = await startAgent(args());
    await until('blue to serve', async () => ((await get(listen).catch(() => undefined))?.body.startsWith('blue-0') ? true : undefined));
  });
  afterAll(() => tearDown({ agent, stateDir, instance, server, repo, runtime }));

  it('converges after every kill during a flip, with no orphan, no route to a dead target and no failed request', async () => {
    const load = startLoad(listen, 4);
    const kills: { wait: number; midway: boolean }[] = [];
    for (let i = 1; i <= FLIP_KILLS; i++) {
      const to = i % 2 ? 'green' : 'blue';
      // A flip that also replaces the new color's targets: create, gate, switch, drain, remove.
      kills.push(await commitAndKill(`flip ${i} to ${to}`, to, { blue: `blue-${i}`, green: `green-${i}` }));
    }
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(counts.ok).toBeGreaterThan(FLIP_KILLS * 10);
    // Printed for the record: when each kill happened after its commit, and how many cut the work short.
    process.stdout.write(`fault test (flips) seed ${SEED}: ${report(kills)}; ${counts.ok} requests, ${counts.failed} failed\n`);
    enoughMidway(kills);
  }, 600_000);

  it('converges after every kill during a roll of the serving color, with no failed request', async () => {
    // Its own start: an agent running, and blue serving with both colors up.
    if (!agent.running()) agent = await startAgent(args());
    await commitLive(agent, repo, { 'apps/web.yaml': yaml('blue', { blue: 'rolled-0', green: `green-${FLIP_KILLS}` }) }, ['web'], 'roll baseline');
    const load = startLoad(listen, 4);
    const kills: { wait: number; midway: boolean }[] = [];
    // Each commit changes blue alone, in place: create one new target, gate it, swap it in, drain and
    // remove one old; twice.
    for (let i = 1; i <= ROLL_KILLS; i++) {
      kills.push(await commitAndKill(`roll ${i} of blue`, 'blue', { blue: `rolled-${i}`, green: `green-${FLIP_KILLS}` }));
    }
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(counts.byColor.green ?? 0).toBe(0);
    expect(counts.ok).toBeGreaterThan(ROLL_KILLS * 10);
    process.stdout.write(`fault test (rolls) seed ${SEED}: ${report(kills)}; ${counts.ok} requests, ${counts.failed} failed\n`);
    enoughMidway(kills);
  }, 600_000);
});
