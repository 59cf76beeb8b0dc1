// A bounded request loop through the proxy, counting outcomes (never timing them).
import { Agent, request } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';
import { until } from './run.js';

/** Where requests go: a port on 127.0.0.1, or a shared entrypoint by host name (over TLS with `ca`). */
export type Via = number | { port: number; host: string; ca?: Buffer };

const viaPort = (via: Via) => (typeof via === 'number' ? via : via.port);

/** A kept-alive agent for `via` (TLS ones trust only the test's CA). */
export function keepAliveAgent(via: Via, maxSockets: number): Agent {
  return typeof via === 'object' && via.ca ? new TlsAgent({ keepAlive: true, maxSockets, ca: via.ca }) : new Agent({ keepAlive: true, maxSockets });
}

export interface LoadCounts {
  ok: number;
  failed: number;
  byColor: Record<string, number>;
  errors: string[];
}

export function get(via: Via, agent?: Agent, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const named = typeof via === 'object' ? via : undefined;
  const send = named?.ca ? tlsRequest : request;
  const tls = named?.ca ? { ca: named.ca, servername: named.host } : {};
  return new Promise((resolve, reject) => {
    const req = send({ host: '127.0.0.1', port: viaPort(via), path, agent: agent ?? false, headers: { ...(named ? { host: named.host } : {}), ...headers }, ...tls }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `connections` kept-alive loops of GET `path` until stop(); at most `limit` requests in all. */
export function startLoad(port: Via, connections = 8, limit = 200_000, path = '/') {
  const agent = keepAliveAgent(port, connections);
  const counts: LoadCounts = { ok: 0, failed: 0, byColor: {}, errors: [] };
  let stopped = false;
  const loop = async () => {
    while (!stopped && counts.ok + counts.failed < limit) {
      try {
        const r = await get(port, agent, path);
        if (r.status === 200) counts.ok++;
        else {
          counts.failed++;
          counts.errors.push(`HTTP ${r.status}: ${r.body.trim()}`);
        }
        const color = /\((blue|green)\)/.exec(r.body)?.[1] ?? 'other';
        counts.byColor[color] = (counts.byColor[color] ?? 0) + 1;
      } catch (e) {
        counts.failed++;
        counts.errors.push(String(e));
      }
    }
  };
  const loops = Array.from({ length: connections }, loop);
  return {
    counts,
    async stop(): Promise<LoadCounts> {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return counts;
    },
  };
}

/**
 * 20 clients on kept-alive connections send 60 requests each through `port`, and `flip` runs once 200
 * were answered. Counts the answers, the failures, and which color answered what was sent after the flip
 * had returned (the next request on a connection that already served the old color, among them).
 */
export async function keptAliveThroughFlip(port: Via, flip: () => Promise<unknown>) {
  const agent = keepAliveAgent(port, 20);
  let switched = false;
  const results = { ok: 0, failed: 0, blueAfterSwitch: 0, greenAfterSwitch: 0 };
  const client = async () => {
    for (let i = 0; i < 60; i++) {
      const sentAfterSwitch = switched;
      try {
        const r = await get(port, agent);
        if (r.status === 200) results.ok++;
        else results.failed++;
        if (sentAfterSwitch && r.body.includes('blue')) results.blueAfterSwitch++;
        if (sentAfterSwitch && r.body.includes('green')) results.greenAfterSwitch++;
      } catch {
        results.failed++;
      }
    }
  };
  try {
    const clients = Array.from({ length: 20 }, client);
    await until('200 answers', () => (results.ok >= 200 ? true : undefined), 60_000, 1);
    await flip();
    switched = true;
    await Promise.all(clients);
    return results;
  } finally {
    agent.destroy();
  }
}
