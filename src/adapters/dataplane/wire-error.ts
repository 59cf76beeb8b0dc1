// A data-plane error as it crosses a process boundary (the control socket's JSON, a proxy worker's IPC
// reply) and back: the code, message, hint and retry class survive; anything that is not a
// SwitchyardError arrives as RouteFailed, the catalogue's code for a data plane that did not take a change.
import { errorMessage, isCode, SwitchyardError, type RetryClass } from '../../core/errors.js';

export interface WireError {
  code?: string;
  message: string;
  hint?: string;
  retry?: RetryClass;
}

export function toWire(e: unknown): WireError {
  if (!(e instanceof SwitchyardError)) return { code: 'RouteFailed', message: errorMessage(e) };
  return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), retry: e.retry };
}

export function fromWire(w: WireError): SwitchyardError {
  return new SwitchyardError(isCode(w.code) ? w.code : 'RouteFailed', w.message, { ...(w.hint ? { hint: w.hint } : {}), ...(w.retry ? { retry: w.retry } : {}) });
}
