// Operator verbs on a running agent: history, sync, suspend, resume, wait. They parse and delegate.
import type { JournalEntry } from '../core/journal.js';
import { readyCondition, type AgentStatus } from '../core/status.js';
import { parseDuration } from '../core/duration.js';
import { SwitchyardError } from '../core/errors.js';
import { API_FLAGS, ApiClient, apiVerb, table } from './api-client.js';
import { parseFlags } from './flags.js';

export async function history(args: string[]): Promise<number> {
  const { values, positionals, client } = apiVerb('history', args, true);
  const app = positionals[0];
  const entries = await client.call<JournalEntry[]>('GET', `/history${app ? `?app=${encodeURIComponent(app)}` : ''}`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  const rows = [['LIVE AT', 'APP', 'COMMIT', 'RESULT', 'COLOR', 'AUTHOR', 'COMMIT->LIVE', 'TOOK', 'MESSAGE / REASON']];
  for (const e of entries) {
    const lag = e.committedAt ? seconds(Date.parse(e.at) - Date.parse(e.committedAt)) : '-';
    const took = e.durations?.totalMs !== undefined ? seconds(e.durations.totalMs) : '-';
    const detail = (e.detail ?? '').split('\n')[0] ?? '';
    const what = e.result === 'applied' ? (e.message ?? '') : e.reason ? `${e.reason}: ${detail}` : detail;
    rows.push([e.at.slice(0, 19), e.app, e.commit.slice(0, 8), e.result, e.color ?? '-', e.author ?? '-', lag, took, what]);
  }
  process.stdout.write(table(rows));
  return 0;
}

export async function sync(args: string[]): Promise<number> {
  const { client } = apiVerb('sync', args);
  await client.call('POST', '/sync');
  process.stdout.write('sync requested: the agent fetches now and tries failed commits again\n');
  return 0;
}

export const suspend = (args: string[]) => toggle('suspend', args);
export const resume = (args: string[]) => toggle('resume', args);

async function toggle(verb: 'suspend' | 'resume', args: string[]): Promise<number> {
  const { positionals, client } = apiVerb(verb, args, true);
  if (positionals.length !== 1) throw new SwitchyardError('UsageError', `${verb} takes one app name`, { hint: `switchyard ${verb} APP` });
  await client.call('POST', `/apps/${encodeURIComponent(positionals[0]!)}/${verb}`);
  process.stdout.write(verb === 'suspend' ? `${positionals[0]} suspended: the agent changes nothing about it until resumed\n` : `${positionals[0]} resumed\n`);
  return 0;
}

/**
 * `switchyard wait --commit SHA`: for CI after a merge. Exit 0 once every app runs that commit and is
 * Ready; 1 as soon as it failed (refused, or an app's flip failed), with the reason; 3 at the timeout.
 */
export async function wait(args: string[]): Promise<number> {
  const { values } = parseFlags('wait', args, { ...API_FLAGS, commit: { type: 'string' }, timeout: { type: 'string', default: '5m' } });
  if (!values.commit || !/^[0-9a-f]{4,40}$/.test(values.commit)) throw new SwitchyardError('UsageError', '--commit SHA is required (4 to 40 hex digits)', { hint: 'e.g. --commit $(git rev-parse HEAD)' });
  const timeoutMs = parseDuration(values.timeout);
  if (timeoutMs === undefined) throw new SwitchyardError('UsageError', `--timeout "${values.timeout}" is not a duration`, { hint: 'e.g. --timeout 5m' });
  const client = ApiClient.fromFlags(values);
  const is = (c: string | undefined) => Boolean(c && c.startsWith(values.commit!));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await client.call<AgentStatus>('GET', '/status');
    if (is(s.desired.lastAttemptedCommit) && s.desired.errors.length) {
      process.stderr.write(`commit ${values.commit} was refused:\n  ${s.desired.errors.join('\n  ')}\n`);
      return 1;
    }
    const apps = Object.values(s.apps);
    const failed = apps.find((a) => is(a.lastAttemptedCommit) && !is(a.lastAppliedCommit) && a.conditions.some((c) => c.type === 'Stalled'));
    if (failed) {
      const r = readyCondition(failed);
      process.stderr.write(`${failed.name}: commit ${values.commit} failed: ${r?.reason}: ${r?.message}\n`);
      return 1;
    }
    if (apps.length && apps.every((a) => is(a.lastAppliedCommit) && readyCondition(a)?.status === 'True')) {
      process.stdout.write(`commit ${values.commit} is live: ${apps.map((a) => `${a.name} (${a.activeColor})`).join(', ')}\n`);
      return 0;
    }
    if (Date.now() > deadline) {
      process.stderr.write(`commit ${values.commit} is not live after ${values.timeout} (source at ${s.source.lastCommit?.slice(0, 8) ?? '-'})\n`);
      return 3;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function seconds(ms: number): string {
  return ms >= 0 ? `${(ms / 1000).toFixed(1)}s` : '-';
}
