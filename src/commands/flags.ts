// Flag parsing shared by the verbs: node's parseArgs, with errors a person can act on.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SwitchyardError } from '../core/errors.js';
import { closest } from '../core/did-you-mean.js';

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(verb: string, args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    const unknown = /^Unknown option '-{1,2}([^']+)'/.exec((e as Error).message)?.[1];
    const near = unknown ? closest(unknown, Object.keys(options)) : undefined;
    throw new SwitchyardError('UsageError', (e as Error).message, { hint: `${near ? `did you mean --${near}? ` : ''}see switchyard ${verb} --help` });
  }
}
