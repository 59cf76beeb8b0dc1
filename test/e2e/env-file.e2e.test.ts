// A secret in an env file on the agent's host, for real: the value reaches the container, and rotating
// the file rolls the targets onto the new value under load, with no failed request and no commit.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { get, startLoad } from '../support/load.js';
import { testImages, until } from '../support/run.js';

describe('env files on the agent\'s host', () => {
  const w = new E2eWorld();
  const secrets = mkdtempSync(join(tmpdir(), 'sy-secrets-'));
  let listen: number;

  beforeAll(async () => {
    listen = await freePort();
    writeFileSync(join(secrets, 'greeting'), 'howdy\n');
    chmodSync(join(secrets, 'greeting'), 0o600);
    const config = join(w.stateDir, 'agent.yaml');
    writeFileSync(config, `policy:\n  envFilePaths: [${secrets}]\n`);
    await w.serve({ 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok, replicas: 2, greeting: { blue: `{ file: ${secrets}/greeting }`, green: 'hi' } }) });
    await w.start('300ms', {}, ['--config', config]);
  });
  afterAll(async () => {
    await w.tearDown();
    rmSync(secrets, { recursive: true, force: true });
  });

  it('serves the value read from the file, and rolls onto a rotated one with no failed request', async () => {
    await until('the secret to be served', async () => ((await get(listen).catch(() => undefined))?.body.startsWith('howdy') ? true : undefined));
    const before = (await w.runtime.list()).filter((t) => t.color === 'blue').map((t) => t.id).sort();
    const load = startLoad(listen);
    await until('traffic', () => (load.counts.ok >= 100 ? true : undefined));
    writeFileSync(join(secrets, 'greeting'), 'hola\n');
    await until('the rotated secret to be served everywhere', async () => {
      const bodies = await Promise.all([get(listen), get(listen), get(listen), get(listen)].map((p) => p.catch(() => undefined)));
      return bodies.every((b) => b?.body.startsWith('hola')) ? true : undefined;
    });
    // The old targets leave after their drain: then two new ones serve, none of the old.
    const after = await until('the old targets to be drained and removed', async () => {
      const blue = (await w.runtime.list()).filter((t) => t.color === 'blue').map((t) => t.id);
      return blue.length === 2 && !blue.some((id) => before.includes(id)) ? blue : undefined;
    });
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(after).toHaveLength(2);
    // The secret itself is in no container name, label or status line: only its keyed digest is.
    expect(JSON.stringify(await w.agent.status())).not.toMatch(/howdy|hola/);
  });
});
