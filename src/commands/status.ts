// `switchyard status`: what the running agent serves, per app (or --json); `--watch` redraws it every
// `--interval` until Ctrl-C (an agent that does not answer for a while is said on the screen, not fatal).
import { parseDuration } from '../core/duration.js';
import { errorMessage, SwitchyardError } from '../core/errors.js';
import { readyCondition, type AgentStatus } from '../core/status.js';
import { apiVerb, type ApiClient, table } from './api-client.js';

/** Home, clear screen: each redraw replaces the last. */
const CLEAR = '\x1b[H\x1b[2J';

export async function showStatus(args: string[]): Promise<number> {
  const { values, client } = apiVerb('status', args, false, { watch: { type: 'boolean', default: false }, interval: { type: 'string', default: '2s' } });
  if (!values.watch) {
    const status = await client.call<AgentStatus>('GET', '/status');
    process.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : render(status));
    return 0;
  }
  const every = parseDuration(values.interval);
  if (every === undefined || every < 100) throw new SwitchyardError('UsageError', `--interval "${values.interval}" is not a duration of 100ms or more`, { hint: 'e.g. --interval 2s' });
  return watch(client, every, values.json);
}

/** Redraws until SIGINT or SIGTERM, then exits 0. */
async function watch(client: ApiClient, everyMs: number, json: boolean): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stop.signal.aborted) {
      let text: string;
      try {
        const status = await client.call<AgentStatus>('GET', '/status');
        text = json ? `${JSON.stringify(status, null, 2)}\n` : render(status);
      } catch (e) {
        text = `the agent does not answer: ${errorMessage(e)}\n`;
      }
      process.stdout.write(`${CLEAR}${text}\n${new Date().toISOString().slice(11, 19)}, every ${everyMs / 1000}s; Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, everyMs);
        stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

function render(status: AgentStatus): string {
  const out: string[] = [];
  const rows = [['APP', 'ACTIVE', 'DESIRED', 'READY', 'REASON', 'APPLIED', 'SINCE', 'REQUESTS B/G', 'MESSAGE']];
  for (const app of Object.values(status.apps)) {
    const ready = readyCondition(app);
    const requests = `${app.traffic?.blue?.requests ?? 0}/${app.traffic?.green?.requests ?? 0}`;
    const since = app.activeSince ? new Date(app.activeSince).toISOString().slice(0, 19) : '-';
    const reason = app.suspended ? 'Suspended' : (ready?.reason ?? '-');
    rows.push([app.name, app.activeColor ?? '-', app.desiredColor, ready?.status ?? 'Unknown', reason, (app.lastAppliedCommit ?? '-').slice(0, 8), since, requests, ready?.message ?? '']);
  }
  out.push(table(rows));
  // On a swarm, where each target runs: the nodes are what an operator drains and replaces.
  const placed = Object.values(status.apps).flatMap((app) => (['blue', 'green'] as const).flatMap((color) => (app.targets?.[color] ?? []).filter((t) => t.node).map((t) => [app.name, color, String(t.replica), t.state, t.routed ? 'yes' : 'no', t.address ?? '-', t.node!])));
  if (placed.length) out.push(`\n${table([['APP', 'COLOR', 'REPLICA', 'STATE', 'ROUTED', 'ADDRESS', 'NODE'], ...placed])}`);
  out.push(`source ${status.source.description} at ${(status.source.lastCommit ?? '-').slice(0, 8)}${status.source.error ? ` (error: ${status.source.error})` : ''}\n`);
  if (status.stale) out.push(`STALE: ${status.stale.message}\n`);
  if (status.dataPlane) out.push(`data plane restarted ${status.dataPlane.restarts} time(s), last at ${new Date(status.dataPlane.lastRestartAt).toISOString()} (${status.dataPlane.lastError})\n`);
  if (status.passRunningSince !== undefined) out.push(`a pass is running since ${new Date(status.passRunningSince).toISOString()}\n`);
  if (status.desired.errors.length) out.push(`commit ${status.desired.lastAttemptedCommit?.slice(0, 8)} refused:\n  ${status.desired.errors.join('\n  ')}\n`);
  return out.join('');
}
