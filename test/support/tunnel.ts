// Clients for the data planes' tests: an upgraded connection (the test backends echo after a 101), and a
// clock whose sleeps wait until the test releases them (grace windows without waiting them out).
import { connect } from 'node:net';
import type { Clock } from '../../src/core/clock.js';
import { until } from './run.js';

export interface Tunnel {
  socket: ReturnType<typeof connect>;
  text: () => string;
  closed: Promise<void>;
}

/** Opens an upgraded connection through `port` and resolves once the backend greeted it. */
export function openTunnel(port: number, headers = ''): Promise<Tunnel> {
  const socket = connect(port, '127.0.0.1');
  let got = '';
  socket.on('data', (d) => (got += d));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n${headers}\r\n`);
  return until('the tunnel to greet', () => (got.includes('hello from') ? { socket, text: () => got, closed } : undefined), 60_000, 5);
}

/** A clock whose sleeps are held, each with its duration, until the test releases it. */
export function heldClock(): { held: { ms: number; release: () => void }[]; clock: Clock } {
  const held: { ms: number; release: () => void }[] = [];
  return { held, clock: { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((release) => held.push({ ms, release })) } };
}
