// Operator verbs on a running agent: history, sync, suspend, resume, wait. They parse and delegate.
import { spawnSync } from 'node:child_process';
import type { JournalEntry } from '../core/journal.js';
import { readyCondition, type AgentStatus } from '../core/status.js';
import { parseDuration } from '../core/duration.js';
import { SwitchyardError } from '../core/errors.js';
import { apiVerb, table } from './api-client.js';

export async function history(args: string[]): Promise<number> {
  const { values, positionals, client } = apiVerb('history', args, true, { git: { type: 'boolean', default: false }, limit: { type: 'string', default: '20' } });
  const limit = Number(values.limit);
  if (values.git && (!Number.isInteger(limit) || limit < 1)) throw new SwitchyardError('UsageError', `--limit "${values.limit}" is not a count`, { hint: 'e.g. --limit 20' });
  // The local log first: outside a clone that is the error to say, before asking the agent anything.
  const log = values.git ? gitLog(limit) : undefined;
  const app = positionals[0];
  const entries = await client.call<JournalEntry[]>('GET', `/history${app ? `?app=${encodeURIComponent(app)}` : ''}`);
  if (log) {
    const outcomes = commitOutcomes(log, entries);
    if (values.json) process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`);
    else process.stdout.write(table([['COMMIT', 'DATE', 'AUTHOR', 'SUBJECT', 'OUTCOME'], ...outcomes.map((c) => [c.commit.slice(0, 8), c.date.slice(0, 19), c.author, c.subject, c.outcome])]));
    return 0;
  }
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

interface LoggedCommit {
  commit: string;
  author: string;
  date: string;
  subject: string;
}

/** The branch's log as the git CLI shows it in this folder (a clone of the desired repository), newest first. */
function gitLog(limit: number): LoggedCommit[] {
  const run = spawnSync('git', ['log', `-n${limit}`, '--format=%H%x1f%an%x1f%aI%x1f%s'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new SwitchyardError('UsageError', `history --git reads the git log of the current folder: ${(run.stderr || run.error?.message || '').trim()}`, { hint: 'run it in a clone of the desired-state repository (cd into it first)' });
  }
  return run.stdout.split('\n').filter(Boolean).map((line) => {
    const [commit, author, date, subject] = line.split('\x1f') as [string, string, string, string];
    return { commit, author, date, subject };
  });
}

/**
 * Each commit of the log with what the agent did with it, from its journal: per app the result, or, for
 * a commit it never attempted, that a newer one was taken instead (it came too soon after it) or that it
 * has not been read yet.
 */
export function commitOutcomes(log: readonly LoggedCommit[], journal: readonly JournalEntry[]): (LoggedCommit & { outcome: string })[] {
  const byCommit = new Map<string, JournalEntry[]>();
  for (const e of journal) byCommit.set(e.commit, [...(byCommit.get(e.commit) ?? []), e]);
  let newerAttempted: string | undefined;
  return log.map((c) => {
    const entries = byCommit.get(c.commit);
    let outcome: string;
    if (entries) {
      // The last word per app (a failed attempt may be followed by a success after a sync).
      const last = new Map(entries.map((e) => [e.app, e]));
      outcome = [...last.values()].map((e) => `${e.app === '*' ? 'commit' : e.app}: ${e.result === 'applied' ? `live${e.color ? ` (${e.color})` : ''} at ${e.at.slice(0, 19)}` : `${e.result}${e.reason ? ` (${e.reason})` : ''}`}`).join('; ');
      newerAttempted = c.commit;
    } else outcome = newerAttempted ? `superseded: never attempted, ${newerAttempted.slice(0, 8)} came first` : 'not attempted yet';
    return { ...c, outcome };
  });
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
  const { values, client } = apiVerb('wait', args, false, { commit: { type: 'string' }, timeout: { type: 'string', default: '5m' } });
  if (!values.commit || !/^[0-9a-f]{4,40}$/.test(values.commit)) throw new SwitchyardError('UsageError', '--commit SHA is required (4 to 40 hex digits)', { hint: 'e.g. --commit $(git rev-parse HEAD)' });
  const timeoutMs = parseDuration(values.timeout);
  if (timeoutMs === undefined) throw new SwitchyardError('UsageError', `--timeout "${values.timeout}" is not a duration`, { hint: 'e.g. --timeout 5m' });
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
