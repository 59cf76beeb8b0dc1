// A target is one container of one color of one app: what we ask the runtime for, and what it reports.
import type { Color, ColorSpec } from './app.js';

/** What to run. `specHash` identifies the container's spec; a different hash means a replacement. */
export interface TargetSpec extends Omit<ColorSpec, 'replicas' | 'envFiles' | 'secretDigest'> {
  app: string;
  color: Color;
  replica: number;
  specHash: string;
  commit: string;
  /** Every value resolved, env files included. */
  env: Record<string, string>;
  /** Port inside the container; published on the runtime's bind host at an ephemeral port. */
  port: number;
  /** Set for a worker (no route, nothing published); absent for a web target. */
  worker?: string;
}

/** A container the runtime owns, as observed now. */
export interface LiveTarget {
  id: string;
  name: string;
  app: string;
  color: Color;
  replica: number;
  specHash: string;
  commit: string;
  running: boolean;
  /** Docker's state word: created, running, restarting, exited, dead... */
  state: string;
  /** Where the proxy reaches it, when it is running and published. */
  address?: { host: string; port: number };
  /** The worker it runs, for a worker container. */
  worker?: string;
  /** Docker's own health check verdict, when the image declares a HEALTHCHECK. */
  health?: 'starting' | 'healthy' | 'unhealthy';
  /** How often Docker's restart policy has restarted it, and its last exit code (from inspect only). */
  restarts?: number;
  exitCode?: number;
  /** The kernel's OOM killer ended it (from inspect only; Docker keeps saying so after a restart). */
  oomKilled?: boolean;
  /** The node it runs on (the swarm runtime; on the docker runtime every target is on this host). */
  node?: string;
  /**
   * Restarting because the runtime is moving it (its node was drained or lost), not because it crashed:
   * out of the route like a crash-looping one, but nothing to alarm anyone about.
   */
  moving?: boolean;
}

/** What to tell a person about a target killed for memory, or nothing. */
export function oomNote(t: Pick<LiveTarget, 'oomKilled'>): string {
  return t.oomKilled ? ' (killed by the OOM killer: it needs more memory than its limit, resources.memory)' : '';
}
