// The engine's events reach the agent in order, and a stop or a pause only once the engine's container list
// shows it: the engine sends "die" before the list has caught up, and a pass woken by it plans from the list.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { watchEvents } from '../../src/adapters/docker/events.js';
import { LABEL } from '../../src/adapters/docker/labels.js';
import type { TargetEvent } from '../../src/core/runtime.js';

function engine() {
  const stream = new PassThrough();
  const docker = { getEvents: async () => stream } as unknown as Docker;
  const send = (id: string, Action: string) => stream.write(`${JSON.stringify({ id, Action, Actor: { Attributes: { [LABEL.app]: 'web' } } })}\n`);
  return { docker, send };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('container events', () => {
  it('passes a die on once the list stops showing the container running, and keeps the engine order', async () => {
    const { docker, send } = engine();
    const states: Record<string, string[]> = { a: ['running', 'running', 'exited'] };
    const reads: string[] = [];
    const listed = async (id: string) => {
      reads.push(id);
      return states[id]?.shift() ?? 'exited';
    };
    const got: TargetEvent[] = [];
    const stop = new AbortController();
    const watching = watchEvents(docker, 'test', (e) => got.push(e), stop.signal, listed);
    send('a', 'die');
    send('b', 'start');
    await until(() => got.length === 2);
    expect(got.map((e) => `${e.id}:${e.action}`)).toEqual(['a:die', 'b:start']);
    // Three reads for the die (running, running, exited); none for the start.
    expect(reads).toEqual(['a', 'a', 'a']);
    stop.abort();
    await watching;
  });

  it('passes a pause on once the list says paused; a failing read or a handler that throws stops nothing', async () => {
    const { docker, send } = engine();
    const states = ['running', 'paused'];
    let failed = false;
    const listed = async (id: string) => {
      if (id === 'x' && !failed) {
        failed = true;
        throw new Error('engine away');
      }
      return id === 'p' ? states.shift() : 'exited';
    };
    const got: string[] = [];
    const stop = new AbortController();
    const watching = watchEvents(
      docker,
      'test',
      (e) => {
        got.push(`${e.id}:${e.action}`);
        if (e.id === 'x') throw new Error('handler failed');
      },
      stop.signal,
      listed,
    );
    send('p', 'pause');
    send('x', 'die');
    send('y', 'health_status: unhealthy');
    await until(() => got.length === 3);
    expect(got).toEqual(['p:pause', 'x:die', 'y:unhealthy']);
    expect(states).toEqual([]);
    stop.abort();
    await watching;
  });
});
