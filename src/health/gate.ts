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

async function gateOne(target: LiveTarget, health: HealthSpec, deps: GateDeps, signal?: AbortSignal): Promise<GateFailure | undefined> {
  const deadline = deps.clock.now() + health.startTimeoutMs;
  let passes = 0;
  let failures = 0;
  let passedOnce = false;
  let lastProbe = 'not probed yet';
  for (;;) {
    if (signal?.aborted) return { target, reason: 'Superseded', why: 'superseded', lastProbe };
    const seen = await deps.runtime.inspect(target.id);
    if (!seen || !seen.running) {
      // Targets run with restart policy unless-stopped: a crash leaves them "restarting"; only a stop or
      // removal from outside leaves them exited or gone.
      const exited = seen?.state === 'restarting';
      return { target, reason: exited ? 'TargetExited' : 'TargetStopped', why: exited ? 'exited' : 'stopped', lastProbe: `container ${seen ? `${seen.state}${oomNote(seen)}` : 'removed'}; ${lastProbe}` };
    }
    // The image's own HEALTHCHECK gets a veto (it is not waited for: its default interval is 30 s).
    if (seen.health === 'unhealthy') return { target, reason: 'HealthCheckFailed', why: UNHEALTHY, lastProbe: `Docker's HEALTHCHECK says unhealthy; ${lastProbe}` };
    if (seen.address) {
      const result = await deps.prober.probe(seen.address, health);
      lastProbe = result.detail;
      passes = result.ok ? passes + 1 : 0;
      failures = result.ok ? 0 : failures + 1;
      passedOnce ||= result.ok;
      if (passes >= health.healthyThreshold) return undefined;
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
