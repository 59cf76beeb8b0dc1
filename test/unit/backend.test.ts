import { describe, expect, it } from 'vitest';
import { Backend } from '../../src/adapters/dataplane/backend.js';

describe('backend (one target of the embedded proxy)', () => {
  it('drain: idle() resolves when the last request in flight ends, not before', async () => {
    const b = new Backend('t1', { host: '127.0.0.1', port: 1 });
    await b.idle();
    const first = b.begin();
    const second = b.begin();
    let idle = false;
    const waiting = b.idle().then(() => (idle = true));
    first();
    first();
    await Promise.resolve();
    expect(idle).toBe(false);
    expect(b.requestsInFlight).toBe(1);
    second();
    await waiting;
    expect(idle).toBe(true);
  });

  it('passive health: out of rotation after three failures to reach it in a row, for 10 s; an answer clears it', () => {
    const b = new Backend('t1', { host: '127.0.0.1', port: 1 });
    b.unreachable(1000);
    b.unreachable(1000);
    expect(b.ejected(1000)).toBe(false);
    b.answered();
    b.unreachable(1000);
    b.unreachable(1000);
    expect(b.ejected(1000)).toBe(false);
    b.unreachable(1000);
    expect(b.ejected(1000)).toBe(true);
    expect(b.ejected(10_999)).toBe(true);
    expect(b.ejected(11_000)).toBe(false);
    b.answered();
    expect(b.ejected(1000)).toBe(false);
  });

  it('gets a new pool when the target comes back on another port (Docker restarted it)', async () => {
    const b = new Backend('t1', { host: '127.0.0.1', port: 1 });
    const first = b.dispatcher({ host: '127.0.0.1', port: 1 });
    expect(b.dispatcher({ host: '127.0.0.1', port: 1 })).toBe(first);
    expect(b.dispatcher({ host: '127.0.0.1', port: 2 })).not.toBe(first);
    await b.destroy();
  });
});
