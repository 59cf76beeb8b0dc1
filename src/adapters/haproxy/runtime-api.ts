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
