// Auditing from git itself, end to end: the real agent with `report: { gitNotes: true }` pushes a note per
// attempted commit to refs/notes/switchyard over smart HTTP, `git log --notes=switchyard` shows them
// beside the commits, and `switchyard history --git` (run in a clone) shows every commit of the branch
// with its outcome, one that a newer commit superseded before the agent read it included.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { testImages, until } from '../support/run.js';

describe('the audit trail in git', () => {
  const world = new E2eWorld();
  let listen: number;
  const yaml = (active: 'blue' | 'green') => appYaml({ listen, active, blueImage: testImages().ok, greenImage: testImages().ok });
  const cli = (cwd: string, ...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [join(process.cwd(), 'bin/switchyard.js'), ...args, '--api', world.agent.apiUrl.replace('http://', ''), '--state-dir', world.stateDir, '--instance', world.instance], { cwd, encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
    );
  const notes = () => {
    world.repo.git('fetch', '-q', 'origin', '+refs/notes/switchyard:refs/notes/switchyard');
    return world.repo.git('log', '--format=%h %s%n%N', '--notes=switchyard');
  };

  beforeAll(async () => {
    listen = await freePort();
    await world.serve({ 'apps/web.yaml': yaml('blue') });
    world.repo.git('-C', world.repo.bare, 'config', 'http.receivepack', 'true');
    const config = join(world.stateDir, 'agent.yaml');
    writeFileSync(config, 'report:\n  gitNotes: true\n');
    await world.start('300ms', {}, ['--config', config]);
  }, 60_000);
  afterAll(() => world.tearDown());

  it('notes each attempted commit, and history --git shows the branch with every outcome', async () => {
    const first = await world.settle({ 'apps/web.yaml': yaml('blue') }, ['web'], 'web: blue');
    // Two commits in one push: the agent reads only the newer one.
    world.repo.write('apps/web.yaml', yaml('green'));
    world.repo.git('commit', '-qam', 'web: green, soon replaced');
    const skipped = world.repo.git('rev-parse', 'HEAD');
    const flip = await world.settle({ 'apps/web.yaml': yaml('green').replace('GREETING: hi', 'GREETING: hi there') }, ['web'], 'web: green, greeting');
    const refused = world.repo.commit('web: a typo', { 'apps/web.yaml': yaml('green').replace('active: green', 'active: purple') });
    await until('the refusal to be noted', () => (notes().includes('switchyard: failed') ? true : undefined), 60_000, 500);
    const log = notes();
    expect(log).toMatch(new RegExp(`${refused.slice(0, 7)} web: a typo\\nswitchyard: failed at \\S+: ValidationFailed: apps/web\\.yaml:\\d+:\\d+ active: must be one of`));
    expect(log).toMatch(new RegExp(`${flip.slice(0, 7)} web: green, greeting\\nswitchyard/web: live at \\S+: `));
    expect(log).toMatch(new RegExp(`${first.slice(0, 7)} web: blue\\nswitchyard/web: live at `));
    // The skipped commit has no note: the agent never attempted it.
    expect(log).toMatch(new RegExp(`${skipped.slice(0, 7)} web: green, soon replaced\\n\\n`));

    const history = await cli(world.repo.work, 'history', '--git', '--limit', '4');
    expect(history.stderr).toBe('');
    const rows = history.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^COMMIT +DATE +AUTHOR +SUBJECT +OUTCOME$/);
    expect(rows[1]).toMatch(new RegExp(`^${refused.slice(0, 8)} .*web: a typo +commit: refused \\(ValidationFailed\\)$`));
    expect(rows[2]).toMatch(new RegExp(`^${flip.slice(0, 8)} .*web: green, greeting +web: live \\(green\\) at `));
    expect(rows[3]).toMatch(new RegExp(`^${skipped.slice(0, 8)} .*web: green, soon replaced +superseded: never attempted, ${flip.slice(0, 8)} came first$`));
    expect(rows[4]).toMatch(new RegExp(`^${first.slice(0, 8)} .*web: blue +web: live \\(blue\\) at `));
    // Outside a clone it says where to run it.
    const nowhere = await cli('/', 'history', '--git');
    expect(nowhere.code).not.toBe(0);
    expect(nowhere.stderr).toMatch(/run it in a clone of the desired-state repository/);
  });
});
