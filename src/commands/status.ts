// `switchyard status`: asks the running agent's API and prints a table (or --json).
import { parseFlags } from './flags.js';
import { SwitchyardError } from '../errors.js';
import { readyCondition, type AgentStatus } from '../agent/status.js';

export const DEFAULT_API = '127.0.0.1:7070';

export async function showStatus(args: string[]): Promise<number> {
  const { values } = parseFlags('status', args, { api: { type: 'string', default: DEFAULT_API }, json: { type: 'boolean', default: false } });
  let status: AgentStatus;
  try {
    const res = await fetch(`http://${values.api}/status`);
    status = (await res.json()) as AgentStatus;
  } catch (e) {
    throw new SwitchyardError('UsageError', `cannot reach the agent at ${values.api}: ${(e as Error).message}`, {
      hint: 'is the agent running? start it with `switchyard run --repo …`, or pass --api HOST:PORT',
    });
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  const rows = [['APP', 'ACTIVE', 'DESIRED', 'READY', 'REASON', 'APPLIED', 'REQUESTS B/G', 'MESSAGE']];
  for (const app of Object.values(status.apps)) {
    const ready = readyCondition(app);
    const requests = `${app.traffic?.blue?.requests ?? 0}/${app.traffic?.green?.requests ?? 0}`;
    rows.push([app.name, app.activeColor ?? '-', app.desiredColor, ready?.status ?? 'Unknown', ready?.reason ?? '-', (app.lastAppliedCommit ?? '-').slice(0, 8), requests, ready?.message ?? '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
  process.stdout.write(`source ${status.source.description} at ${(status.source.lastCommit ?? '-').slice(0, 8)}${status.source.error ? ` (error: ${status.source.error})` : ''}\n`);
  if (status.desired.errors.length) process.stdout.write(`commit ${status.desired.lastAttemptedCommit?.slice(0, 8)} refused:\n  ${status.desired.errors.join('\n  ')}\n`);
  return 0;
}
