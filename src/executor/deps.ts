// What the executor needs from the world, and what it reports back. Every side effect is passed in.
import type { Clock } from '../core/clock.js';
import type { Code, RetryClass } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Prober } from '../core/prober.js';
import type { Checker } from '../core/checker.js';
import type { Entrypoints, Router } from '../core/route.js';
import type { Runtime } from '../core/runtime.js';
import type { LiveTarget } from '../core/target.js';

export interface ExecutorDeps {
  runtime: Runtime;
  router: Router;
  prober: Prober;
  /** Sends the app's smoke checks (absent: checks are not run, as in unit tests of other steps). */
  checker?: Checker;
  clock: Clock;
  log: Logger;
  entrypoints: Entrypoints;
}

/** How long each step took (ms), for the journal. */
export interface Timings {
  bringUpMs?: number;
  gateMs?: number;
  checksMs?: number;
  flipMs?: number;
}

/**
 * A failure says what the loop should do next (`retry`): the class of the error that caused it (an error
 * may know better than its code's default), else the catalogue's for `reason`.
 */
export interface Failure {
  ok: false;
  reason: Code;
  retry: RetryClass;
  message: string;
  /** With reason CrashLoopBackOff: the targets Docker is restarting. */
  looping?: LiveTarget[];
  /** With reason GuardFailed: how live now differs from what git asks (the Degraded condition). */
  degraded?: string;
}

export type FlipResult = ({ ok: true; routed: LiveTarget[] } | Failure) & { timings?: Timings };
