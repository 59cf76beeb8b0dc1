// Following targets as Swarm moves them. The engine's event stream has no task events (API 1.41): the
// tasks are read again every half second (after the agent's own probe of the nodes: node-watch.ts), and at once when the manager reports a service or node change (a
// node drained, down, or back). A target that stops running where it ran (its task ended or moved, or its
// node went away) is reported as `die`, one that runs again as `start`: each wakes a pass, which takes
// the dead address out of the route and gates the new one before it goes in.
import type Docker from 'dockerode';
import type { TargetEvent } from '../../../core/runtime.js';
import type { LiveTarget } from '../../../core/target.js';

const POLL_MS = 500;
const RECONNECT_MS = 2_000;

/** Per target: its app, and where it serves now (undefined: it does not run). */
export type Whereabouts = ReadonlyMap<string, { app: string; at: string | undefined }>;

export function whereabouts(targets: readonly LiveTarget[]): Whereabouts {
  return new Map(targets.map((t) => [t.id, { app: t.app, at: t.running && t.address ? `${t.address.host}:${t.address.port}` : undefined }]));
}

/** What changed between two readings. A target that is gone was removed by us: no news. */
export function targetChanges(before: Whereabouts, after: Whereabouts): TargetEvent[] {
  const events: TargetEvent[] = [];
  for (const [id, now] of after) {
    const then = before.get(id);
    if (!then || then.at === now.at) continue;
    events.push({ id, app: now.app, action: then.at ? 'die' : 'start' });
  }
  return events;
}

export async function followTasks(docker: Docker, list: () => Promise<LiveTarget[]>, onEvent: (e: TargetEvent) => void, signal: AbortSignal): Promise<void> {
  let wake = () => {};
  void clusterChanges(docker, () => wake(), signal);
  // One listener for the whole watch: one per tick would pile up on the signal (it fires only at the end).
  signal.addEventListener('abort', () => wake(), { once: true });
  let seen: Whereabouts | undefined;
  while (!signal.aborted) {
    try {
      const now = whereabouts(await list());
      if (seen) for (const e of targetChanges(seen, now)) onEvent(e);
      seen = now;
    } catch {
      // The manager is away (a failover, a restart): read again next time.
    }
    if (signal.aborted) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = () => {};
  }
}

/** Calls `changed` for each service or node event of the swarm until `signal` aborts; reconnects. */
async function clusterChanges(docker: Docker, changed: () => void, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const stream = (await docker.getEvents({ filters: { type: ['service', 'node'] } })) as unknown as NodeJS.ReadableStream & { destroy(): void };
      const stop = () => stream.destroy();
      signal.addEventListener('abort', stop, { once: true });
      await new Promise<void>((resolve) => {
        stream.on('data', () => changed());
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      signal.removeEventListener('abort', stop);
    } catch {
      // The manager is away: try again.
    }
    if (!signal.aborted) await new Promise((r) => setTimeout(r, RECONNECT_MS));
  }
}
