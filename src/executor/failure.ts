// Failures as the executor reports them: a code of the catalogue, its retry class, and a message that
// names the targets and the last probe.
import { errorMessage, retryClass, retryOf, SwitchyardError, type Code } from '../core/errors.js';
import type { GateFailure, GateResult } from '../health/gate.js';
import type { Failure } from './deps.js';

/** A failure with the catalogue's retry class for its code. */
export function failed(reason: Code, message: string, extra: Pick<Failure, 'looping'> = {}): Failure {
  return { ok: false, reason, retry: retryOf(reason), message, ...extra };
}

export const SUPERSEDED: Failure = failed('Superseded', 'a newer commit arrived');

/** An error thrown by the runtime or the router: its own code and class, else `fallback`'s. */
export function failure(e: unknown, fallback: Code): Failure {
  const reason = e instanceof SwitchyardError ? e.code : fallback;
  return { ok: false, reason, retry: retryClass(e, fallback), message: errorMessage(e) };
}

export function gateMessage(color: string, result: GateResult): string {
  if (result.healthy) return '';
  const describe = (f: GateFailure) => `${f.target.name}: ${f.why} (last probe: ${f.lastProbe})`;
  return `${color} is not healthy: ${result.failures.map(describe).join('; ')}`;
}
