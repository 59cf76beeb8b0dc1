// The agent supervises its data plane: the embedded proxy SIGKILLed under a running agent is started
// again with its saved routes within a pass, counted in the status and journaled as DataPlaneRestarted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlAnswers } from '../../src/adapters/dataplane/proxy-control.js';
import { proxyFiles } from '../../src/adapters/dataplane/proxy-files.js';
import type { JournalEntry } from '../../src/core/journal.js';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { get } from '../support/load.js';
import { processGone, testImages, until } from '../support/run.js';

describe('a data plane that dies', () => {
  const w = new E2eWorld();
  let listen: number;

  beforeAll(async () => {
    listen = await freePort();
    await w.serve({ 'apps/web.yaml': appYaml({ listen, blueImage: testImages().ok, greenImage: testImages().ok }) });
    await w.start('500ms');
  });
  afterAll(() => w.tearDown());

  it('is started again by the agent with its saved routes, counted and journaled', async () => {
    await until('blue to serve', async () => ((await get(listen).catch(() => undefined))?.body.includes('(blue)') ? true : undefined));
    const { socket } = proxyFiles(w.stateDir, w.instance);
    const before = (await controlAnswers(socket))!;
    process.kill(before.pid, 'SIGKILL');
    await processGone('the proxy to die', before.pid);
    await until('blue to serve again', async () => ((await get(listen).catch(() => undefined))?.body.includes('(blue)') ? true : undefined));
    const after = (await controlAnswers(socket))!;
    expect(after.pid).not.toBe(before.pid);
    const status = await until('the restart in the status', async () => ((await w.agent.status()).dataPlane ? w.agent.status() : undefined));
    expect(status.dataPlane).toMatchObject({ restarts: 1, lastError: expect.stringMatching(/the proxy does not answer on .* \((ECONNREFUSED|ENOENT|ECONNRESET|EPIPE)\)/) });
    const history = (await (await fetch(`${w.agent.apiUrl}/history`)).json()) as JournalEntry[];
    expect(history.filter((e) => e.reason === 'DataPlaneRestarted')).toHaveLength(1);
  });
});
