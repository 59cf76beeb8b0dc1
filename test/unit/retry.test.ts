// The loop asks the failure what to do (its retry class, core/errors.ts), not a list of its own. Each test
// pins one of the bugs the old TRANSIENT list caused, or the failed-commit memory across a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFailedCommits } from '../../src/adapters/files/failed-commits.js';
import { CATALOGUE, SwitchyardError } from '../../src/core/errors.js';
import type { TargetSpec } from '../../src/core/target.js';
import { setup } from '../support/agent-world.js';
import { appYaml } from '../support/app-yaml.js';

const creates = (calls: readonly string[]) => calls.filter((c) => c.startsWith('create')).length;
const stalled = (w: ReturnType<typeof setup>) => w.agent.status().apps.web?.conditions.find((c) => c.type === 'Stalled')?.reason;

describe('retry classes', () => {
  it('retries a CreateFailed the runtime threw as transient on the next pass, without a new commit or a sync', async () => {
    const w = setup();
    const create = w.runtime.create.bind(w.runtime);
    let fail = true;
    w.runtime.create = async (spec: TargetSpec) => {
      if (fail && spec.color === 'green') {
        fail = false;
        throw new SwitchyardError('CreateFailed', `container ${spec.app}-green vanished right after it started`, { retry: 'transient' });
      }
      return create(spec);
    };
    w.source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await w.agent.reconcile();
    expect(stalled(w)).toBe('CreateFailed');
    await w.agent.reconcile();
    expect(stalled(w)).toBeUndefined();
    expect(w.agent.status().apps.web).toMatchObject({ lastAppliedCommit: 'c1' });
    expect(w.router.table.get('web')!.color).toBe('blue');
  });

  it('holds a CreateFailed the engine refused for the spec (a 4xx) against the commit', async () => {
    const w = setup();
    const create = w.runtime.create.bind(w.runtime);
    w.runtime.create = async (spec: TargetSpec) => {
      if (spec.color === 'green') throw new SwitchyardError('CreateFailed', 'container web-green: invalid mount config');
      return create(spec);
    };
    w.source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await w.agent.reconcile();
    const before = creates(w.runtime.calls);
    await w.agent.reconcile();
    expect(creates(w.runtime.calls)).toBe(before);
    expect(stalled(w)).toBe('CreateFailed');
  });

  it('retries a passing RouteFailed (an HAProxy runtime-API error) on the next pass: a good commit is not quarantined', async () => {
    const w = setup();
    w.source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    w.router.failNext = new SwitchyardError('RouteFailed', 'HAProxy runtime API: Unknown backend');
    await w.agent.reconcile();
    expect(stalled(w)).toBe('RouteFailed');
    await w.agent.reconcile();
    expect(w.router.table.get('web')!.color).toBe('blue');
    expect(w.agent.status().apps.web).toMatchObject({ lastAppliedCommit: 'c1' });
  });

  it('treats PortInUse as transient wherever it is thrown (data plane, engine, API)', async () => {
    expect(CATALOGUE.PortInUse.retry).toBe('transient');
    expect(new SwitchyardError('PortInUse', 'cannot listen on 127.0.0.1:7070 for the API').retry).toBe('transient');
    const w = setup();
    w.source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    w.router.failNext = new SwitchyardError('PortInUse', 'listen port 9000 on 127.0.0.1 is held by another process');
    await w.agent.reconcile();
    expect(stalled(w)).toBe('PortInUse');
    await w.agent.reconcile();
    expect(w.router.table.get('web')!.color).toBe('blue');
  });

  it('remembers a commit that failed its gate across a restart (on disk): the new agent does not try it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-failed-'));
    try {
      const path = join(dir, 'test.failed-commits.json');
      const first = setup({ failedCommits: new FileFailedCommits(path) });
      first.source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
      first.prober.healthy = () => false;
      await first.agent.reconcile();
      expect(stalled(first)).toBe('HealthCheckFailed');
      const remembered = new Map([['web', { commit: 'c1', reason: 'HealthCheckFailed', message: expect.stringMatching(/green is not healthy|blue is not healthy/) }]]);
      expect(await new FileFailedCommits(path).load()).toEqual(remembered);

      const second = setup({ failedCommits: new FileFailedCommits(path) });
      second.source.next = first.source.next;
      second.prober.healthy = () => false;
      await second.agent.reconcile();
      expect(creates(second.runtime.calls)).toBe(0);
      // The new agent says why the app is held, although it tried nothing.
      expect(stalled(second)).toBe('HealthCheckFailed');
      expect(second.agent.status().apps.web?.conditions.find((c) => c.type === 'Stalled')?.message).toMatch(/^commit c1 failed for this app \(HealthCheckFailed: .*not healthy.*\) and is not retried \(a new commit or `switchyard sync` retries it\)$/);
      // An operator's sync forgets it, and the commit is tried again (failing again, it is remembered again).
      second.agent.sync();
      await second.agent.reconcile();
      expect(creates(second.runtime.calls)).toBe(2);
      expect(await new FileFailedCommits(path).load()).toEqual(remembered);
      // Fixed on the host side: a sync tries it again, and the success is remembered on disk too.
      second.prober.healthy = () => true;
      second.agent.sync();
      await second.agent.reconcile();
      expect(second.router.table.get('web')!.color).toBe('blue');
      expect(await new FileFailedCommits(path).load()).toEqual(new Map());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
