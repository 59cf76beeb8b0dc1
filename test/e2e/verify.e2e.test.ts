// `verify` on the real agent (`switchyard run`), the real engine and a git server over smart HTTP, with
// commits signed by the git CLI with an ssh-keygen key: an unsigned first commit starts nothing, a signed
// one is served, an unsigned flip is refused whole (status, journal, a notification) while blue keeps
// serving, and a signed flip goes live.
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/core/journal.js';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { get } from '../support/load.js';
import { freePort } from '../support/ports.js';
import { testImages, until } from '../support/run.js';
import { makeSshKey, type SshKey } from '../support/signing.js';

describe('verify: only signed commits go live (real agent, engine and git server)', () => {
  const w = new E2eWorld();
  let listen = 0;
  let alice: SshKey;
  let hook: Server;
  const notes: Record<string, unknown>[] = [];
  const yaml = (active: 'blue' | 'green') => ({ 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok, active }) });
  const history = async () => (await (await fetch(`${w.agent.apiUrl}/history`)).json()) as JournalEntry[];

  beforeAll(async () => {
    listen = await freePort();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        notes.push(JSON.parse(body) as Record<string, unknown>);
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    await w.serve(yaml('blue'));
    alice = makeSshKey(join(w.repo.root, 'keys'), 'alice');
    const allowed = join(w.repo.root, 'keys', 'allowed_signers');
    writeFileSync(allowed, `${alice.allowedSignersLine('alice@example.com')}\n`);
    const config = join(w.repo.root, 'agent.yaml');
    writeFileSync(config, `verify:\n  mode: head\n  allowedSigners: ${allowed}\nnotifyUrl: http://127.0.0.1:${(hook.address() as { port: number }).port}/hook\n`);
    await w.start('300ms', {}, ['--config', config]);
  });
  afterAll(async () => {
    await w.tearDown();
    await new Promise((r) => hook.close(r));
  });

  it('starts nothing on an unsigned first commit, then serves a signed one', async () => {
    const first = w.repo.git('rev-parse', 'HEAD');
    const refused = await until('the unsigned first commit to be refused', async () => {
      const s = await w.agent.status();
      return s.desired.reason === 'UnverifiedCommit' ? s : undefined;
    });
    expect(refused.desired).toMatchObject({ lastAttemptedCommit: first, errors: [expect.stringMatching(/is refused: it carries no signature/)] });
    expect(refused.desired.commit).toBeUndefined();
    expect(await w.runtime.list()).toEqual([]);
    expect((await history()).map((e) => `${e.commit}:${e.result}:${e.reason}`)).toEqual([`${first}:refused:UnverifiedCommit`]);

    const signed = w.repo.commitSigned(alice, 'web: signed', yaml('blue'));
    await until('blue to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('(blue)') ? true : undefined), 120_000);
    const s = await w.agent.status();
    expect(s.desired).toMatchObject({ commit: signed, errors: [], signer: { format: 'ssh', fingerprint: alice.fingerprint, identity: 'alice@example.com' } });
  });

  it('refuses an unsigned flip whole while blue serves, then takes a signed one', async () => {
    const unsigned = w.repo.commit('web: to green, unsigned', yaml('green'));
    await until('the unsigned flip to be refused', async () => ((await w.agent.status()).desired.lastAttemptedCommit === unsigned ? true : undefined));
    const s = await w.agent.status();
    expect(s.desired.reason).toBe('UnverifiedCommit');
    expect(s.apps.web?.activeColor).toBe('blue');
    expect((await get(listen)).body).toContain('(blue)');
    await until('the notification', () => (notes.some((n) => n.event === 'commit-refused' && n.commit === unsigned) ? true : undefined));
    expect((await history()).find((e) => e.commit === unsigned)).toMatchObject({ result: 'refused', reason: 'UnverifiedCommit' });
    expect(w.agent.logs.filter((l) => l.reason === 'UnverifiedCommit' && l.commit === unsigned && l.level !== undefined).length).toBeGreaterThan(0);

    w.repo.commitSigned(alice, 'web: to green, signed', yaml('green'));
    await until('green to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('(green)') ? true : undefined), 120_000);
    expect((await w.agent.status()).desired.reason).toBeUndefined();
  });
});
