// `switchyard status`: what the running agent serves, per app (or --json).
import { readyCondition, type AgentStatus } from '../core/status.js';
import { apiVerb, table } from './api-client.js';

export async function showStatus(args: string[]): Promise<number> {
  const { values, client } = apiVerb('status', args);
  const status = await client.call<AgentStatus>('GET', '/status');
  if (values.json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  const rows = [['APP', 'ACTIVE', 'DESIRED', 'READY', 'REASON', 'APPLIED', 'SINCE', 'REQUESTS B/G', 'MESSAGE']];
  for (const app of Object.values(status.apps)) {
    const ready = readyCondition(app);
    const requests = `${app.traffic?.blue?.requests ?? 0}/${app.traffic?.green?.requests ?? 0}`;
    const since = app.activeSince ? new Date(app.activeSince).toISOString().slice(0, 19) : '-';
    const reason = app.suspended ? 'Suspended' : (ready?.reason ?? '-');
    rows.push([app.name, app.activeColor ?? '-', app.desiredColor, ready?.status ?? 'Unknown', reason, (app.lastAppliedCommit ?? '-').slice(0, 8), since, requests, ready?.message ?? '']);
  }
  process.stdout.write(table(rows));
  process.stdout.write(`source ${status.source.description} at ${(status.source.lastCommit ?? '-').slice(0, 8)}${status.source.error ? ` (error: ${status.source.error})` : ''}\n`);
  if (status.stale) process.stdout.write(`STALE: ${status.stale.message}\n`);
  if (status.dataPlane) process.stdout.write(`data plane restarted ${status.dataPlane.restarts} time(s), last at ${new Date(status.dataPlane.lastRestartAt).toISOString()} (${status.dataPlane.lastError})\n`);
  if (status.passRunningSince !== undefined) process.stdout.write(`a pass is running since ${new Date(status.passRunningSince).toISOString()}\n`);
  if (status.desired.errors.length) process.stdout.write(`commit ${status.desired.lastAttemptedCommit?.slice(0, 8)} refused:\n  ${status.desired.errors.join('\n  ')}\n`);
  return 0;
}
