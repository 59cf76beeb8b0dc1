// HAProxy's runtime API (and the master CLI) over a unix socket: one command per connection.
import { createConnection } from 'node:net';
import { SwitchyardError } from '../../core/errors.js';

export function haproxyCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let out = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (d) => (out += d));
    socket.on('close', () => resolve(out));
    socket.on('error', (e: NodeJS.ErrnoException) =>
      reject(new SwitchyardError('RouteFailed', `HAProxy does not answer on ${socketPath}: ${e.code ?? e.message}`, { hint: 'the agent starts HAProxy when it is missing', cause: e })),
    );
  });
}

/** `show stat` as rows keyed by column name. */
export function parseStat(csv: string): Record<string, string>[] {
  const lines = csv.split('\n').filter(Boolean);
  const header = lines.shift()?.replace(/^# /, '').split(',') ?? [];
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i] ?? String(i), v])));
}

/** A session in tunnel mode (an upgraded connection: a WebSocket) and its unique id, from `show sess all`. */
export interface TunnelSession {
  /** The session's address: what `show sess` and `shutdown session` take. */
  ptr: string;
  /** Its unique id: an address may be reused by a later session, an id never is. */
  id: string;
  backend: string;
}

export function parseTunnels(showSessAll: string): TunnelSession[] {
  const out: TunnelSession[] = [];
  for (const block of showSessAll.split(/\n(?=0x[0-9a-f]+: \[)/)) {
    const head = /^(0x[0-9a-f]+): \[[^\]]*\] id=(\d+)/.exec(block.trim());
    const backend = /\n\s*backend=(\S+)/.exec(block)?.[1];
    if (head && backend && /\breq\.st=MSG_TUNNEL\b/.test(block)) out.push({ ptr: head[1]!, id: head[2]!, backend });
  }
  return out;
}
