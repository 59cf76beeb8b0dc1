// The agent's status, in one vocabulary (Flux-style): per app a Ready condition, plus Reconciling or
// Stalled while true, each with a PascalCase reason from the catalogue (core/errors.ts) and a lowercase
// message. Both the last attempted and the last applied commit are kept, so a bad commit never hides
// the good one that is live. The reconciler writes it (reconciler/status-store.ts); the API, the CLI and
// the metrics read it; nothing reads it to decide what to do.
import type { Signer } from './signature.js';
import { COLORS, type Color } from './app.js';
import type { Code } from './errors.js';
import type { ColorCounters, Traffic } from './route.js';

/** Degraded: what is live differs from what git asks (a guard flipped back). */
export type ConditionType = 'Ready' | 'Reconciling' | 'Stalled' | 'Degraded';
/** A condition's reason: a code of the catalogue. */
export type Reason = Code;

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False';
  reason: Reason;
  message: string;
  lastTransitionTime: string;
}

export interface TargetStatus {
  id: string;
  name: string;
  replica: number;
  state: string;
  address?: string;
  routed: boolean;
  /** Docker's HEALTHCHECK verdict, when the image has one. */
  health?: string;
  /** Restarts by Docker's restart policy and the last exit code, for a target that is crash-looping. */
  restarts?: number;
  exitCode?: number;
  /** The OOM killer ended it: it needs more memory than its limit. */
  oomKilled?: boolean;
  /** The data plane took it out of rotation for now: it failed to reach it several times in a row. */
  ejected?: boolean;
  /** The swarm node it runs on. */
  node?: string;
}

export interface AppStatus {
  name: string;
  file: string;
  conditions: Condition[];
  desiredColor: Color;
  activeColor?: Color;
  lastAttemptedCommit?: string;
  lastAppliedCommit?: string;
  /** Epoch ms when the active color last changed. */
  activeSince?: number;
  targets: Record<Color, TargetStatus[]>;
  /** The data plane's counters per color: requests, 5xx, in flight, last hit (epoch ms). */
  traffic: Partial<Record<Color, ColorCounters>>;
  /** An operator suspended it: the agent changes nothing about it until resumed. */
  suspended?: boolean;
  /** Its TLS certificate (apps with tls): where it comes from, until when it is valid, what is wrong. */
  certificate?: { source: 'files' | 'acme'; notAfter?: number; error?: string };
}

export interface AgentStatus {
  instance: string;
  source: { description: string; lastCommit?: string; lastFetchAt?: number; error?: string };
  desired: {
    /** The commit in force, and (with `verify`) the key that signed it. */
    commit?: string;
    signer?: Signer;
    lastAttemptedCommit?: string;
    /** Why the last attempted commit was refused, when it was, and the key that signed it (if any). */
    errors: string[];
    reason?: 'ValidationFailed' | 'UnverifiedCommit';
    fingerprint?: string;
  };
  apps: Record<string, AppStatus>;
  /** When the last pass succeeded (epoch ms), and the alarm raised when that is too long ago. */
  lastSuccessAt?: number;
  stale?: { since: number; message: string };
  /**
   * Since when (epoch ms) the pass in progress has been running, while one is. A pass stuck on something
   * unbounded (a build, a long gate) shows here; the stale alarm is only raised between passes.
   */
  passRunningSince?: number;
  /** How often the agent found its data plane gone and started it again, and the last time. */
  dataPlane?: { restarts: number; lastRestartAt: number; lastError: string };
}

export function readyCondition(app: AppStatus): Condition | undefined {
  return app.conditions.find((c) => c.type === 'Ready');
}

/**
 * The status with the data plane's counters read now: each app's traffic, and its targets the data plane
 * took out of rotation. Read when the status is asked for, not in every pass: a pass then makes no call per
 * app to the data plane, and a dashboard sees requests as they come, whatever the poll interval.
 */
export function withTraffic(status: AgentStatus, traffic: Traffic): AgentStatus {
  const apps = Object.fromEntries(
    Object.entries(status.apps).map(([name, app]) => {
      const counters = traffic[name] ?? {};
      // The status names a target by the first 12 characters of its id, as docker ps does.
      const ejected = new Set(COLORS.flatMap((c) => counters[c]?.ejected ?? []).map((id) => id.slice(0, 12)));
      const mark = (targets: TargetStatus[]) => targets.map((t) => (ejected.has(t.id) ? { ...t, ejected: true } : t));
      return [name, { ...app, traffic: counters, targets: { blue: mark(app.targets.blue), green: mark(app.targets.green) } }];
    }),
  );
  return { ...status, apps };
}
