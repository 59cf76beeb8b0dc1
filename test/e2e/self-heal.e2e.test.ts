// Self-heal on real Docker: the agent polls only once an hour here, so a repair can only come from the
// Docker events it watches. A killed target is replaced, and so is one paused by hand; a crash-looping
// one is left to Docker's restart backoff, reported, and routed again once it serves; one its image's
// HEALTHCHECK calls unhealthy is replaced. No request through the proxy fails.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/core/journal.js';
import type { LiveTarget } from '../../src/core/target.js';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { get, startLoad } from '../support/load.js';
import { testImages, until } from '../support/run.js';

/** Two blue targets, no green ones. */
const blueOnly = (yaml: string) => yaml.replace(/replicas: 2\n(\s+env:\n\s+GREETING: hi)/, 'replicas: 0\n$1');

// Exits with code 3 while /crash holds a count above zero (counting down), else serves: the container's
// own filesystem survives Docker's restarts, so `echo 4 > /crash` makes four crashes in a row. /pid is
// the server's pid, to kill it (its process name is busybox's).
const CRASH_LOOP = 'c=0; [ -e /crash ] && c=$(/bin/busybox cat /crash); if [ "$c" -gt 0 ]; then echo $((c - 1)) > /crash; exit 3; fi; echo $$ > /pid; exec /bin/busybox httpd -f -p 8080 -h /www';

describe('self-heal from Docker events', () => {
  const w = new E2eWorld();
  const listen = { web: 0, loop: 0, checked: 0 };

  const targetsOf = async (app: string) => (await w.runtime.list()).filter((t) => t.app === app && t.running).sort((a, b) => a.replica - b.replica);
  const routedIds = async (app: string) => ((await w.agent.status()).apps[app]?.targets.blue ?? []).filter((t) => t.routed).map((t) => t.id);
  /**
   * Two running targets, neither of them `victim`, both routed: the status lists targets at the end of a
   * pass (after its journal entry), so this also waits for the pass that replaced it to finish.
   */
  const replaced = (app: string, victim: LiveTarget) =>
    until('a replacement to serve', async () => {
      const running = await targetsOf(app);
      const routed = await routedIds(app);
      const gone = !running.some((t) => t.id === victim.id) && !routed.includes(victim.id.slice(0, 12));
      return gone && running.length === 2 && routed.length === 2 ? running : undefined;
    });

  beforeAll(async () => {
    for (const app of Object.keys(listen) as (keyof typeof listen)[]) listen[app] = await freePort();
    const images = testImages();
    await w.serve({
      'apps/web.yaml': blueOnly(appYaml({ listen: listen.web, blueImage: images.ok, greenImage: images.ok, replicas: 2 })),
      'apps/loop.yaml': `${blueOnly(appYaml({ name: 'loop', listen: listen.loop, blueImage: images.ok, greenImage: images.ok, replicas: 2 }))}command: ${JSON.stringify(['/bin/busybox', 'sh', '-c', CRASH_LOOP])}\n`,
      'apps/checked.yaml': blueOnly(appYaml({ name: 'checked', listen: listen.checked, blueImage: images.checked, greenImage: images.checked, replicas: 2 })),
    });
    await w.start('1h');
    for (const port of Object.values(listen)) await until('blue to serve', async () => ((await get(port).catch(() => undefined))?.body.includes('(blue)') ? true : undefined));
  });
  afterAll(() => w.tearDown());

  it('replaces a killed target at once, with no failed request', async () => {
    const [victim, survivor] = await targetsOf('web');
    const load = startLoad(listen.web);
    await until('traffic', () => (load.counts.ok >= 100 ? true : undefined));
    execFileSync('docker', ['update', '--restart=no', victim!.id]);
    execFileSync('docker', ['kill', victim!.id]);
    const healed = await replaced('web', victim!);
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(healed.map((t) => t.id)).toContain(survivor!.id);
    expect(w.agent.logs.some((l) => l.msg === 'container event: reconciling now' && l.event === 'die')).toBe(true);
    expect(w.agent.logs.some((l) => l.msg === 'dead targets left the route')).toBe(true);
  });

  it('takes a target paused by hand out of the route at once, replaces it, and journals the drift', async () => {
    // Starts from two routed targets serving (self-heal restores them whatever a test before did).
    await until('two routed web targets', async () => ((await targetsOf('web')).length === 2 && (await routedIds('web')).length === 2 ? true : undefined));
    const drifts = async () => ((await (await fetch(`${w.agent.apiUrl}/history?app=web`)).json()) as JournalEntry[]).filter((e) => e.reason === 'Drift' && e.result === 'applied').length;
    const driftsBefore = await drifts();
    const [victim, survivor] = await targetsOf('web');
    const load = startLoad(listen.web);
    await until('traffic', () => (load.counts.ok >= 100 ? true : undefined));
    // A paused container accepts connections and answers none: left in the route, it would hang requests.
    execFileSync('docker', ['pause', victim!.id]);
    const healed = await replaced('web', victim!);
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(healed.map((t) => t.id)).toContain(survivor!.id);
    expect(await w.runtime.inspect(victim!.id)).toBeUndefined();
    expect(w.agent.logs.some((l) => l.msg === 'container event: reconciling now' && l.event === 'pause' && l.app === 'web')).toBe(true);
    expect(await drifts()).toBe(driftsBefore + 1);
  });

  it('leaves a crash-looping target to Docker\'s restart backoff, reports it, and routes it again once it serves', async () => {
    const [looping, other] = await targetsOf('loop');
    const load = startLoad(listen.loop);
    await until('traffic', () => (load.counts.ok >= 100 ? true : undefined));
    // Four crashes in a row after this one: Docker restarts it five times, waiting longer each time.
    // Detached (-d): the kill stops the container, which would otherwise cut the exec itself short.
    execFileSync('docker', ['exec', '-d', looping!.id, '/bin/busybox', 'sh', '-c', 'echo 4 > /crash; kill $(/bin/busybox cat /pid)']);
    const reported = await until('the crash loop in the journal', async () => {
      const history = (await (await fetch(`${w.agent.apiUrl}/history?app=loop`)).json()) as JournalEntry[];
      return history.find((e) => e.reason === 'CrashLoopBackOff');
    });
    await until('the same target to serve again', async () => {
      const ready = (await w.agent.status()).apps.loop?.conditions.find((c) => c.type === 'Ready')?.status === 'True';
      const routed = await routedIds('loop');
      return ready && routed.length === 2 && routed.includes(looping!.id.slice(0, 12)) ? true : undefined;
    });
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(reported.detail).toMatch(/blue replica \d \(sy-.*\): restarted \d+ time\(s\), (running again|exited with code 3)/);
    // Not replaced: the same two containers, the crashed one restarted by Docker each time.
    expect((await w.runtime.list()).filter((t) => t.app === 'loop').map((t) => t.id).sort()).toEqual([looping!.id, other!.id].sort());
    expect((await w.runtime.inspect(looping!.id))?.restarts).toBe(5);
    expect(w.agent.logs.some((l) => l.msg === 'targets are crash-looping' && l.app === 'loop')).toBe(true);
  });

  it('replaces a target its image HEALTHCHECK calls unhealthy, on Docker\'s health_status event', async () => {
    const [victim, survivor] = await targetsOf('checked');
    const load = startLoad(listen.checked);
    await until('traffic', () => (load.counts.ok >= 100 ? true : undefined));
    execFileSync('docker', ['exec', victim!.id, '/bin/busybox', 'touch', '/sick']);
    const healed = await replaced('checked', victim!);
    const counts = await load.stop();
    expect(counts.errors).toEqual([]);
    expect(healed.map((t) => t.id)).toContain(survivor!.id);
    expect(w.agent.logs.some((l) => l.msg === 'container event: reconciling now' && l.event === 'unhealthy' && l.app === 'checked')).toBe(true);
  });
});
