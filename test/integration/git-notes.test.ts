// Git notes as the audit trail, on real repositories read back with the git CLI: written into a local
// repository; pushed to a remote over smart HTTP (git http-backend with receive-pack on), merged with a
// note someone else pushed meanwhile; a refused push is said and counted, never thrown at the pass.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitNotesReporter, mergeNote, NOTES_REF } from '../../src/adapters/git/git-notes.js';
import { silentLogger } from '../../src/core/log.js';
import { startGitServer, TestRepo, type GitServer } from '../support/git-server.js';

const AUTH = { username: 'agent', password: 'push-token-77bb' };
const author = { name: 'switchyard (test)', email: 'switchyard@host.example' };
const at = new Date('2026-12-01T06:00:00Z');

describe('git notes under refs/notes/switchyard', () => {
  let repo: TestRepo;
  let server: GitServer;
  let cache: string;
  beforeAll(async () => {
    repo = new TestRepo();
    repo.git('-C', repo.bare, 'config', 'http.receivepack', 'true');
    server = await startGitServer(repo.root, AUTH);
    cache = mkdtempSync(join(tmpdir(), 'sy-notes-'));
  });
  afterAll(async () => {
    await server.close();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it('keeps one line per app and one for the commit, the newest state of each', () => {
    let note = mergeNote('', { commit: 'c', context: 'switchyard/web', state: 'pending', description: 'working' }, at);
    note = mergeNote(note, { commit: 'c', context: 'switchyard/api', state: 'failure', description: 'HealthCheckFailed: green\nnot healthy' }, at);
    note = mergeNote(note, { commit: 'c', context: 'switchyard/web', state: 'success', description: 'live: blue serves it' }, at);
    expect(note).toBe('switchyard/api: failed at 2026-12-01T06:00:00Z: HealthCheckFailed: green not healthy\nswitchyard/web: live at 2026-12-01T06:00:00Z: live: blue serves it\n');
  });

  it('writes into a local repository, where git log --notes=switchyard shows it', async () => {
    const commit = repo.commit('web: blue', { 'apps/web.yaml': 'active: blue\n' });
    const notes = new GitNotesReporter({ repo: repo.work, cacheDir: cache, author, now: () => at }, silentLogger);
    notes.report({ commit, context: 'switchyard/web', state: 'success', description: 'live: blue serves it' });
    await notes.flushed();
    expect(repo.git('log', '-1', '--format=%N', '--notes=switchyard', commit)).toBe('switchyard/web: live at 2026-12-01T06:00:00Z: live: blue serves it');
  });

  it('pushes to a remote, on top of what someone else pushed there, and says a refused push', async () => {
    const remote = `${server.url}/desired.git`;
    const first = repo.commit('web: flip to green', { 'apps/web.yaml': 'active: green\n' });
    const second = repo.commit('web: back to blue', { 'apps/web.yaml': 'active: blue\n' });
    const failures: number[] = [];
    const notes = new GitNotesReporter({ repo: remote, cacheDir: cache, author, auth: () => AUTH, now: () => at }, silentLogger, () => failures.push(1));
    notes.report({ commit: first, context: 'switchyard/web', state: 'canceled', description: 'superseded by a newer commit' });
    await notes.flushed();
    // Someone else adds a note to another commit and pushes it.
    repo.git('fetch', '-q', 'origin', `+${NOTES_REF}:${NOTES_REF}`);
    repo.git('notes', '--ref=switchyard', 'add', '-m', 'reviewed by alice', second);
    repo.git('push', '-q', 'origin', NOTES_REF);
    notes.report({ commit: second, context: 'switchyard', state: 'failure', description: 'apps/web.yaml:3:9 active: must be one of "blue", "green"' });
    await notes.flushed();
    repo.git('fetch', '-q', 'origin', `+${NOTES_REF}:${NOTES_REF}`);
    expect(repo.git('notes', '--ref=switchyard', 'show', first)).toBe('switchyard/web: superseded at 2026-12-01T06:00:00Z: superseded by a newer commit');
    expect(repo.git('notes', '--ref=switchyard', 'show', second)).toBe('reviewed by alice\nswitchyard: failed at 2026-12-01T06:00:00Z: apps/web.yaml:3:9 active: must be one of "blue", "green"');
    expect(failures).toEqual([]);
    // Without credentials the push is refused: counted, the pass never sees it.
    const refused = new GitNotesReporter({ repo: remote, cacheDir: join(cache, 'refused'), author, now: () => at }, silentLogger, () => failures.push(1));
    refused.report({ commit: first, context: 'switchyard/web', state: 'success', description: 'live' });
    await refused.flushed();
    expect(failures).toEqual([1]);
  });
});
