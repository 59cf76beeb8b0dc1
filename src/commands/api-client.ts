// How CLI verbs talk to a running agent: its API on --api, with the bearer token from --token,
// SWITCHYARD_API_TOKEN, or the token file the agent keeps in its state dir.
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { stateFiles } from './state-files.js';
import { DEFAULT_STATE_DIR } from '../config/state-dir.js';
import { SwitchyardError } from '../core/errors.js';
import { parseFlags } from './flags.js';

export const DEFAULT_API = '127.0.0.1:7070';

export const API_FLAGS = {
  api: { type: 'string', default: DEFAULT_API },
  token: { type: 'string' },
  'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
  instance: { type: 'string', default: 'default' },
  json: { type: 'boolean', default: false },
} as const;

export class ApiClient {
  constructor(private readonly api: string, private readonly token: string | undefined) {}

  static fromFlags(values: { api: string; token?: string | undefined; 'state-dir': string; instance: string }): ApiClient {
    let token = values.token ?? process.env.SWITCHYARD_API_TOKEN;
    if (!token) {
      try {
        token = readFileSync(stateFiles(values['state-dir'], values.instance).apiToken, 'utf8').trim();
      } catch {
        // Reads on a loopback API need none; a call that does will say so.
      }
    }
    return new ApiClient(values.api, token);
  }

  async call<T>(method: 'GET' | 'POST', path: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`http://${this.api}${path}`, { method, headers: this.token ? { authorization: `Bearer ${this.token}` } : {}, signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new SwitchyardError('UsageError', `cannot reach the agent at ${this.api}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`, {
        hint: 'is the agent running? start it with `switchyard run --repo …`, or pass --api HOST:PORT',
      });
    }
    const body = (await res.json().catch(() => ({}))) as T & { error?: string; hint?: string };
    if (!res.ok) throw new SwitchyardError('UsageError', `the agent answered ${res.status}: ${body.error ?? 'error'}`, body.hint ? { hint: body.hint } : {});
    return body;
  }
}

/** A verb that talks to the agent: the API flags plus the verb's own (`extra`), and a client. */
export function apiVerb<T extends NonNullable<ParseArgsConfig['options']> = Record<never, never>>(verb: string, args: string[], positionals = false, extra?: T) {
  const { values, positionals: rest } = parseFlags(verb, args, { ...API_FLAGS, ...extra } as typeof API_FLAGS & T, positionals);
  return { values, positionals: rest, client: ApiClient.fromFlags(values as { api: string; token?: string; 'state-dir': string; instance: string }) };
}

/** A plain table: columns padded to the widest cell, the last one left free. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
