// Clients for the data planes' tests: an upgraded connection (the test backends echo after a 101), and a
// clock whose sleeps wait until the test releases them (grace windows without waiting them out).
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Clock } from '../../src/core/clock.js';
import { until } from './run.js';

export interface Tunnel {
  socket: Socket;
  text: () => string;
  closed: Promise<void>;
}

/**
 * Opens an upgraded connection through `port` and resolves once the backend greeted it; with `tls`, over
 * TLS to that host name (SNI and Host), trusting only the test's CA.
 */
export function openTunnel(port: number, headers = '', tls?: { host: string; ca: Buffer; path?: string }): Promise<Tunnel> {
  const socket: Socket = tls ? tlsConnect({ port, host: '127.0.0.1', servername: tls.host, ca: tls.ca }) : connect(port, '127.0.0.1');
  let got = '';
  socket.on('data', (d) => (got += d));
  socket.on('error', () => socket.destroy());
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`GET ${tls?.path ?? '/ws'} HTTP/1.1\r\nhost: ${tls?.host ?? 'x'}\r\nconnection: upgrade\r\nupgrade: echo\r\n${headers}\r\n`);
  return until('the tunnel to greet', () => (got.includes('hello from') ? { socket, text: () => got, closed } : undefined), 60_000, 5);
}

/** A clock whose sleeps are held, each with its duration, until the test releases it. */
export function heldClock(): { held: { ms: number; release: () => void }[]; clock: Clock } {
  const held: { ms: number; release: () => void }[] = [];
  return { held, clock: { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((release) => held.push({ ms, release })) } };
}
