// The health gate: a color may take traffic only when every one of its new targets has passed
// `healthyThreshold` consecutive probes within `startTimeout`. A target that stops running fails the
// gate at once: there is no point waiting out the timeout for a container that exited.
import type { Clock } from '../core/clock.js';
import type { Code } from '../core/errors.js';
import type { HealthSpec } from '../core/app.js';
import type { Runtime } from '../core/runtime.js';
import { oomNote, type LiveTarget } from '../core/target.js';
import type { Prober } from '../core/prober.js';

export interface GateFailure {
  target: LiveTarget;
  /**
   * Codes of the catalogue. TargetExited: its process exited (Docker's restart policy is restarting it).
   * TargetStopped: it was stopped or removed from outside (the engine shutting down, an operator), which
   * says nothing of the app. HealthCheckFailed: not healthy within the start timeout, or failing again
   * after passing (`why` says which).
   */
  reason: Extract<Code, 'TargetExited' | 'TargetStopped' | 'HealthCheckFailed' | 'Superseded'>;
  /** In words, for the gate's message. */
  why: string;
  lastProbe: string;
}

const UNHEALTHY = 'failed its health check again after passing';

export type GateResult = { healthy: true } | { healthy: false; failures: GateFailure[] };

export interface GateDeps {
  prober: Prober;
  runtime: Pick<Runtime, 'inspect'>;
  clock: Clock;
}

export async function gate(targets: readonly LiveTarget[], health: HealthSpec, deps: GateDeps, signal?: AbortSignal): Promise<GateResult> {
  const results = await Promise.all(targets.map((t) => gateOne(t, health, deps, signal)));
  const failures = results.filter((r): r is GateFailure => r !== undefined);
  return failures.length ? { healthy: false, failures } : { healthy: true };
}

/**
 * How often a target that fails its probes is looked at again in the engine. Not at every probe: with
 * hundreds of targets in their gates (a first converge), an inspect per probe is thousands of engine calls
 * a second, and the engine, busy answering them, creates the containers the gates wait for the slower.
 */
export const RECHECK_MS = 1000;

async function gateOne(target: LiveTarget, health: HealthSpec, deps: GateDeps, signal?: AbortSignal): Promise<GateFailure | undefined> {
  const deadline = deps.clock.now() + health.startTimeoutMs;
  let passes = 0;
  let failures = 0;
  let passedOnce = false;
  let lastProbe = 'not probed yet';
  // The engine is asked at first, after a failed probe (at most once per RECHECK_MS), and before the target
  // counts as healthy: a target that passes its probes runs, and one that exited fails them.
  let seen: LiveTarget | undefined;
  let inspectedAt = -Infinity;
  let restarts: number | undefined;
  const look = async (): Promise<GateFailure | undefined> => {
    seen = await deps.runtime.inspect(target.id);
    inspectedAt = deps.clock.now();
    const failure = judge(target, seen, restarts, lastProbe);
    if (seen) restarts ??= seen.restarts ?? 0;
    return failure;
  };
  for (;;) {
    if (signal?.aborted) return { target, reason: 'Superseded', why: 'superseded', lastProbe };
    if (!seen?.address || (passes === 0 && deps.clock.now() - inspectedAt >= RECHECK_MS)) {
      const failure = await look();
      if (failure) return failure;
    }
    if (seen?.address) {
      const result = await deps.prober.probe(seen.address, health);
      lastProbe = result.detail;
      passes = result.ok ? passes + 1 : 0;
      failures = result.ok ? 0 : failures + 1;
      passedOnce ||= result.ok;
      if (passes >= health.healthyThreshold) return look();
      // A target that answered and then keeps failing is flapping: fail now, not at the start timeout.
      if (passedOnce && failures >= health.unhealthyThreshold) return { target, reason: 'HealthCheckFailed', why: UNHEALTHY, lastProbe };
    } else {
      lastProbe = 'no published port yet';
      passes = 0;
    }
    if (deps.clock.now() >= deadline) return { target, reason: 'HealthCheckFailed', why: 'not healthy within the start timeout', lastProbe };
    await deps.clock.sleep(health.intervalMs, signal);
  }
}

/** What the engine says of a gated target: gone, exited (or restarted since the gate began), vetoed by its own HEALTHCHECK; undefined when it runs. */
function judge(target: LiveTarget, seen: LiveTarget | undefined, restartsBefore: number | undefined, lastProbe: string): GateFailure | undefined {
  if (!seen || !seen.running) {
    // Targets run with restart policy unless-stopped: a crash leaves them "restarting"; only a stop or
    // removal from outside leaves them exited or gone.
    const exited = seen?.state === 'restarting';
    return { target, reason: exited ? 'TargetExited' : 'TargetStopped', why: exited ? 'exited' : 'stopped', lastProbe: `container ${seen ? `${seen.state}${oomNote(seen)}` : 'removed'}; ${lastProbe}` };
  }
  // Crashed and already running again between two looks: an exit all the same.
  if (restartsBefore !== undefined && seen.restarts !== undefined && seen.restarts > restartsBefore) {
    return { target, reason: 'TargetExited', why: 'exited', lastProbe: `container restarted ${seen.restarts - restartsBefore} time(s) during its gate${oomNote(seen)}; ${lastProbe}` };
  }
  // The image's own HEALTHCHECK gets a veto (it is not waited for: its default interval is 30 s).
  if (seen.health === 'unhealthy') return { target, reason: 'HealthCheckFailed', why: UNHEALTHY, lastProbe: `Docker's HEALTHCHECK says unhealthy; ${lastProbe}` };
  return undefined;
}
