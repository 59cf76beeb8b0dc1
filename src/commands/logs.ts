// `switchyard logs APP [--color C] [--follow] [--tail N]`: the output of an app's containers (web
// targets and workers), each line prefixed with its container, read from the Docker engine on this host
// (or, with --runtime swarm, each service's output as the manager gathers it from the nodes).
import { DEFAULT_STATE_DIR } from '../config/state-dir.js';
import { SwitchyardError } from '../core/errors.js';
import { targetRuntime } from './runtime.js';
import { parseFlags } from './flags.js';

export async function logs(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    'logs',
    args,
    { color: { type: 'string' }, follow: { type: 'boolean', short: 'f', default: false }, tail: { type: 'string', default: '100' }, instance: { type: 'string', default: 'default' }, runtime: { type: 'string', default: process.env.SWITCHYARD_RUNTIME || 'docker' }, 'state-dir': { type: 'string', default: DEFAULT_STATE_DIR } },
    true,
  );
  const app = positionals[0];
  if (!app || positionals.length > 1) throw new SwitchyardError('UsageError', 'logs takes one app name', { hint: 'switchyard logs APP [--color blue|green] [--follow]' });
  if (values.color !== undefined && values.color !== 'blue' && values.color !== 'green') throw new SwitchyardError('UsageError', `--color "${values.color}" is not a color`, { hint: 'blue or green' });
  const tail = Number(values.tail);
  if (!Number.isInteger(tail) || tail < 0) throw new SwitchyardError('UsageError', `--tail "${values.tail}" is not a count`, { hint: 'e.g. --tail 100' });
  if (values.runtime !== 'docker' && values.runtime !== 'swarm') throw new SwitchyardError('UsageError', `--runtime "${values.runtime}" is not a runtime`, { hint: 'docker or swarm' });
  const runtime = targetRuntime({ runtime: values.runtime, instance: values.instance });
  const targets = (await runtime.list()).filter((t) => t.app === app && (!values.color || t.color === values.color)).sort((a, b) => a.name.localeCompare(b.name));
  if (!targets.length) {
    throw new SwitchyardError('UsageError', `no containers of app "${app}"${values.color ? ` (${values.color})` : ''} for instance "${values.instance}"`, { hint: 'check the app name (switchyard status) and --instance' });
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  await Promise.all(targets.map((t) => runtime.logs(t.id, process.stdout, { follow: values.follow, tail, prefix: `[${t.name}] `, signal: stop.signal })));
  return 0;
}
