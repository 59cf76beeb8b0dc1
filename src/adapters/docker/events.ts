// The engine's container events for this agent's targets (a target died, was OOM-killed, started, was
// paused by hand, or its image's HEALTHCHECK called it unhealthy), as a stream that reconnects when the
// engine goes away and comes back. A stop or a pause is passed on once the engine's container list says
// so too: the engine sends its event before it has written the new state where the list reads it (its
// network cleanup comes between), and a pass woken by the event must not plan from the old state.
import type Docker from 'dockerode';
import type { TargetEvent } from '../../core/runtime.js';
import { LABEL } from './labels.js';

/** The container events that wake a pass; `unhealthy` is Docker's `health_status: unhealthy`. */
const WATCHED: ReadonlySet<string> = new Set<TargetEvent['action']>(['die', 'oom', 'start', 'pause', 'unhealthy']);
/** What to ask the engine for: `health_status` matches its actions by prefix ("health_status: unhealthy"). */
const WATCH_FILTER = [...WATCHED].map((a) => (a === 'unhealthy' ? 'health_status' : a));
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 10_000;
/** How often, and how many times, the list is read while it still shows a stopped or paused target running. */
const LIST_CATCH_UP_MS = 50;
const LIST_CATCH_UP_TRIES = 40;

/** The state the engine lists a container in ("running", "exited", "paused"), undefined once it is gone. */
export type ListedState = (id: string) => Promise<string | undefined>;

export async function watchEvents(docker: Docker, instance: string, onEvent: (e: TargetEvent) => void, signal: AbortSignal, listed: ListedState): Promise<void> {
  let wait = RECONNECT_FIRST_MS;
  // In the engine's order: an event waiting for the list holds back the ones after it. A handler that
  // throws does not stop the ones after it either.
  let delivered = Promise.resolve();
  const deliver = (e: TargetEvent) => {
    delivered = delivered
      .then(() => untilListed(e, listed))
      .then(() => onEvent(e))
      .catch(() => undefined);
  };
  while (!signal.aborted) {
    try {
      const stream = (await docker.getEvents({
        filters: { type: ['container'], event: WATCH_FILTER, label: [`${LABEL.instance}=${instance}`] },
      })) as unknown as NodeJS.ReadableStream & { destroy(): void };
      wait = RECONNECT_FIRST_MS;
      const stop = () => stream.destroy();
      signal.addEventListener('abort', stop, { once: true });
      await readEvents(stream, deliver);
      signal.removeEventListener('abort', stop);
    } catch {
      // The engine is away (restarting?): try again, backing off.
    }
    if (signal.aborted) break;
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, RECONNECT_MAX_MS);
  }
}

/** One JSON event per line; resolves when the stream ends. Lines that are not events are skipped. */
function readEvents(stream: NodeJS.ReadableStream, onEvent: (e: TargetEvent) => void): Promise<void> {
  let buffered = '';
  return new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        const event = line ? parseEvent(line) : undefined;
        if (event) onEvent(event);
      }
    });
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
}

/** Resolves once the list shows `e`'s stop or pause (or after LIST_CATCH_UP_TRIES reads, or on a read error). */
async function untilListed(e: TargetEvent, listed: ListedState): Promise<void> {
  if (e.action !== 'die' && e.action !== 'pause') return;
  for (let i = 0; i < LIST_CATCH_UP_TRIES; i++) {
    const state = await listed(e.id).catch(() => undefined);
    if (state !== 'running') return;
    await new Promise((r) => setTimeout(r, LIST_CATCH_UP_MS));
  }
}

function parseEvent(line: string): TargetEvent | undefined {
  try {
    const e = JSON.parse(line) as { id?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } };
    const app = e.Actor?.Attributes?.[LABEL.app];
    const action = e.Action === 'health_status: unhealthy' ? 'unhealthy' : e.Action;
    return e.id && app && action && WATCHED.has(action) ? { id: e.id, app, action: action as TargetEvent['action'] } : undefined;
  } catch {
    return undefined;
  }
}
