// The rest of the convergence contract on the real engine: drift by hand is corrected and journaled
// (a container that is not ours is never touched); the old color is scaled down after scaleDownDelay and a
// rollback brings it back through the gate; an app removed from the repository is pruned, and a commit
// with no apps at all prunes nothing.
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JournalEntry } from '../../src/core/journal.js';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { TEST_LABEL } from '../support/docker-cli.js';
import { get } from '../support/load.js';
import { testImages, until } from '../support/run.js';

describe('drift, scale-down and prune on the real engine', () => {
  const w = new E2eWorld();
  let stranger = '';
  const listen = { web: 0, api: 0 };

  const web = (o: Partial<Parameters<typeof appYaml>[0]> = {}) => appYaml({ listen: listen.web, blueImage: testImages().ok, greenImage: testImages().ok, ...o });
  const api = () => appYaml({ name: 'api', listen: listen.api, blueImage: testImages().ok, greenImage: testImages().ok });
  const serving = (port: number, color: string) =>
    until(`${color} on ${port}`, async () => ((await get(port).catch(() => undefined))?.body.includes(`(${color})`) ? true : undefined));
  const targets = async (app: string) => (await w.runtime.list()).filter((t) => t.app === app);
  const history = async (app: string) => (await (await fetch(`${w.agent.apiUrl}/history?app=${app}`)).json()) as JournalEntry[];

  beforeAll(async () => {
    listen.web = await freePort();
    listen.api = await freePort();
    // Not ours: no instance label. It must outlive everything below.
    stranger = execFileSync('docker', ['run', '-d', '--label', `${TEST_LABEL}=${inject('runId')}`, '--label', 'dev.switchyard.app=web', testImages().ok], { encoding: 'utf8' }).trim();
    await w.serve({ 'apps/web.yaml': web(), 'apps/api.yaml': api() });
    await w.start('300ms');
    await serving(listen.web, 'blue');
    await serving(listen.api, 'blue');
  });
  afterAll(async () => {
    execFileSync('docker', ['rm', '-f', stranger]);
    await w.tearDown();
  });

  it('corrects a target stopped by hand and one removed by hand, and journals it as drift', async () => {
    await w.settle({ 'apps/web.yaml': web(), 'apps/api.yaml': api() }, ['web', 'api']);
    await until('both colors up', async () => ((await targets('web')).filter((t) => t.running).length === 2 ? true : undefined));
    const [blue] = (await targets('web')).filter((t) => t.color === 'blue');
    const [green] = (await targets('web')).filter((t) => t.color === 'green');
    execFileSync('docker', ['stop', '-t', '1', blue!.id]);
    execFileSync('docker', ['rm', '-f', green!.id]);
    await until('a new target of each color', async () => {
      const now = (await targets('web')).filter((t) => t.running);
      return now.length === 2 && !now.some((t) => t.id === blue!.id || t.id === green!.id) ? true : undefined;
    });
    await serving(listen.web, 'blue');
    const drift = await until('drift in the journal', async () => (await history('web')).find((e) => e.reason === 'Drift' && e.result === 'applied'));
    expect(drift.changes.join('; ')).toMatch(/create 1 (blue|green) target/);
    expect(execFileSync('docker', ['inspect', '-f', '{{.State.Running}}', stranger], { encoding: 'utf8' }).trim()).toBe('true');
  });

  it('scales the old color down after scaleDownDelay, and a rollback brings it back through the gate', async () => {
    await w.settle({ 'apps/web.yaml': web(), 'apps/api.yaml': api() }, ['web', 'api']);
    w.repo.commit('web: green, blue kept warm for 1s', { 'apps/web.yaml': web({ active: 'green' }).replace('drainTimeout: 5s', 'drainTimeout: 5s\nscaleDownDelay: 1s') });
    await serving(listen.web, 'green');
    await until('blue to be scaled down', async () => ((await targets('web')).map((t) => t.color).join() === 'green' ? true : undefined));
    expect(w.agent.logs.some((l) => Array.isArray(l.changes) && (l.changes as string[]).some((c) => c.startsWith('scale down blue')))).toBe(true);

    w.repo.git('revert', '--no-edit', 'HEAD');
    w.repo.push();
    await serving(listen.web, 'blue');
    const back = (await targets('web')).find((t) => t.color === 'blue' && t.running)!;
    // Brought back: created by this rollback, then gated, then routed.
    const created = w.agent.logs.findIndex((l) => l.msg === 'targets created' && (l.created as string[] | undefined)?.includes(back.name));
    const after = w.agent.logs.slice(created);
    const gate = after.findIndex((l) => l.msg === 'health gate passed' && l.app === 'web' && l.color === 'blue' && Number(l.gated) >= 1);
    const route = after.findIndex((l) => l.msg === 'route switched' && l.app === 'web' && l.color === 'blue');
    expect(created).toBeGreaterThanOrEqual(0);
    expect(gate).toBeGreaterThan(0);
    expect(route).toBeGreaterThan(gate);
  });

  it('prunes an app removed from the repository, and refuses to prune everything on a commit with no apps', async () => {
    await w.settle({ 'apps/web.yaml': web(), 'apps/api.yaml': api() }, ['web', 'api']);
    w.repo.git('rm', '-q', 'apps/api.yaml');
    w.repo.commit('api: retired');
    await until('api to be pruned', async () => ((await targets('api')).length === 0 && (await get(listen.api).catch(() => undefined)) === undefined ? true : undefined));
    expect((await w.agent.status()).apps.api).toBeUndefined();

    w.repo.git('rm', '-q', 'apps/web.yaml');
    const empty = w.repo.commit('oops: no apps at all');
    await until('the refusal', () => (w.agent.logs.some((l) => String(l.msg).startsWith('desired state has no apps: refusing to prune everything') && l.commit === empty) ? true : undefined));
    await serving(listen.web, 'blue');
    expect((await targets('web')).filter((t) => t.running).length).toBe(2);
  });

  it('keeps its state folder owner-only: the folder 0700, every file in it 0600 (token, journal, routes, records, git cache)', () => {
    const loose: string[] = [];
    const walk = (dir: string) => {
      if ((statSync(dir).mode & 0o777) !== 0o700) loose.push(`${dir} ${(statSync(dir).mode & 0o777).toString(8)}`);
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const st = lstatSync(path);
        if (st.isDirectory()) walk(path);
        else if (st.isFile() && (st.mode & 0o077) !== 0) loose.push(`${path} ${(st.mode & 0o777).toString(8)}`);
      }
    };
    walk(w.stateDir);
    expect(readdirSync(w.stateDir)).toEqual(expect.arrayContaining([`${w.instance}.journal.jsonl`, `${w.instance}.api-token`, `${w.instance}.routes.json`]));
    expect(loose).toEqual([]);
  });
});
