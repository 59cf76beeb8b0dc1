// Flag parsing shared by the verbs: node's parseArgs, with errors a person can act on.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SwitchyardError } from '../core/errors.js';

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(verb: string, args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new SwitchyardError('UsageError', (e as Error).message, { hint: `see switchyard --help for "${verb}"` });
  }
}
