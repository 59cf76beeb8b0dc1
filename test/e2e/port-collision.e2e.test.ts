// A listen port held by another process on the host: the app gets a clear status (Stalled, PortInUse,
// which port and what to do), its targets are not churned while it waits, and it is served as soon as
// the port is free again, with no commit and no operator.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { get } from '../support/load.js';
import { testImages, until } from '../support/run.js';

describe('a listen port held by another process', () => {
  const w = new E2eWorld();
  let squatter: Server;
  let listen: number;

  beforeAll(async () => {
    listen = await freePort();
    squatter = createServer((s) => s.end('not switchyard\n'));
    await new Promise<void>((resolve) => squatter.listen(listen, '127.0.0.1', resolve));
    await w.serve({ 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok }) });
    await w.start('300ms');
  });
  afterAll(async () => {
    squatter.close();
    await w.tearDown();
  });

  it('says PortInUse with the port and what to do, keeps its targets while it waits, and serves once the port is free', async () => {
    const stalled = await until('PortInUse', async () => (await w.agent.status()).apps.web?.conditions.find((c) => c.type === 'Stalled' && c.reason === 'PortInUse'));
    expect(stalled.message).toMatch(new RegExp(`cannot listen on 127.0.0.1:${listen} .*another process holds that port; stop it or change \x60listen\x60`));
    // A few more passes: the same containers, nothing created again.
    const ids = (await w.runtime.list()).map((t) => t.id).sort();
    const passes = w.agent.logs.length;
    await until('more passes', () => (w.agent.logs.slice(passes).filter((l) => l.reason === 'PortInUse').length >= 3 ? true : undefined));
    expect((await w.runtime.list()).map((t) => t.id).sort()).toEqual(ids);

    await new Promise((resolve) => squatter.close(resolve));
    await until('blue to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('(blue)') ? true : undefined));
    // The route is switched first, then the status says so.
    await until('Ready', async () => ((await w.agent.status()).apps.web?.conditions.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined));
  });
});
