// The agent's status, in one vocabulary (Flux-style): per app a Ready condition, plus Reconciling or
// Stalled while true, each with a PascalCase reason and a lowercase message. Both the last attempted and
// the last applied commit are kept, so a bad commit never hides the good one that is live.
import type { Clock } from '../clock.js';
import type { Color } from '../desired/app.js';
import type { ColorCounters } from '../router/route.js';

export type ConditionType = 'Ready' | 'Reconciling' | 'Stalled';
export type Reason =
  | 'Progressing'
  | 'Succeeded'
  | 'HealthCheckFailed'
  | 'ValidationFailed'
  | 'FetchFailed'
  | 'ImagePullFailed'
  | 'BuildFailed'
  | 'CreateFailed'
  | 'PortInUse'
  | 'RouteFailed'
  | 'DockerUnavailable'
  | 'ReconcileFailed'
  | 'WorkerFailed'
  | 'CrashLoopBackOff'
  | 'TargetStopped'
  | 'SecretUnavailable';

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
}

export interface AgentStatus {
  instance: string;
  source: { description: string; lastCommit?: string; lastFetchAt?: number; error?: string };
  desired: { commit?: string; lastAttemptedCommit?: string; errors: string[] };
  apps: Record<string, AppStatus>;
  /** When the last pass succeeded (epoch ms), and the alarm raised when that is too long ago. */
  lastSuccessAt?: number;
  stale?: { since: number; message: string };
  /**
   * Since when (epoch ms) the pass in progress has been running, while one is. A pass stuck on something
   * unbounded (a build, a long gate) shows here; the stale alarm is only raised between passes.
   */
  passRunningSince?: number;
}

export type Phase = { phase: 'Reconciling'; reason: 'Progressing'; message: string } | { phase: 'Ready'; message: string } | { phase: 'Stalled'; reason: Reason; message: string };

export class StatusStore {
  private readonly state: AgentStatus;

  constructor(instance: string, sourceDescription: string, private readonly clock: Clock) {
    this.state = { instance, source: { description: sourceDescription }, desired: { errors: [] }, apps: {} };
  }

  snapshot(): AgentStatus {
    return structuredClone(this.state);
  }

  app(name: string): AppStatus | undefined {
    return this.state.apps[name];
  }

  fetched(commit: string): void {
    Object.assign(this.state.source, { lastCommit: commit, lastFetchAt: this.clock.now() });
    delete this.state.source.error;
  }

  fetchFailed(message: string): void {
    this.state.source.error = message;
  }

  desiredAttempted(commit: string, errors: string[]): void {
    this.state.desired.lastAttemptedCommit = commit;
    this.state.desired.errors = errors;
    if (!errors.length) this.state.desired.commit = commit;
  }

  /** The desired state in force came from `commit` (e.g. the last good one, recovered after a restart). */
  desiredInForce(commit: string): void {
    this.state.desired.commit = commit;
  }

  /** Starts or refreshes the entry of an app from its desired spec. */
  track(app: { name: string; file: string; active: Color }): void {
    const current = this.state.apps[app.name] ?? { name: app.name, file: app.file, desiredColor: app.active, conditions: [], targets: { blue: [], green: [] }, traffic: {} };
    Object.assign(current, { file: app.file, desiredColor: app.active });
    this.state.apps[app.name] = current;
  }

  passStarted(): void {
    this.state.passRunningSince = this.clock.now();
  }

  passEnded(): void {
    delete this.state.passRunningSince;
  }

  passSucceeded(): void {
    this.state.lastSuccessAt = this.clock.now();
    delete this.state.stale;
  }

  raiseStale(message: string): boolean {
    if (this.state.stale) return false;
    this.state.stale = { since: this.clock.now(), message };
    return true;
  }

  update(name: string, patch: Partial<Pick<AppStatus, 'activeColor' | 'lastAttemptedCommit' | 'lastAppliedCommit' | 'targets' | 'traffic' | 'suspended'>>): void {
    const current = this.state.apps[name];
    if (!current) return;
    if (patch.activeColor && patch.activeColor !== current.activeColor) current.activeSince = this.clock.now();
    Object.assign(current, patch);
  }

  removeApp(name: string): void {
    delete this.state.apps[name];
  }

  setPhase(name: string, phase: Phase): void {
    const app = this.state.apps[name];
    if (!app) return;
    const now = new Date(this.clock.now()).toISOString();
    const wanted: Omit<Condition, 'lastTransitionTime'>[] =
      phase.phase === 'Ready'
        ? [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: phase.message }]
        : phase.phase === 'Reconciling'
          ? [
              { type: 'Ready', status: 'False', reason: 'Progressing', message: phase.message },
              { type: 'Reconciling', status: 'True', reason: 'Progressing', message: phase.message },
            ]
          : [
              { type: 'Ready', status: 'False', reason: phase.reason, message: phase.message },
              { type: 'Stalled', status: 'True', reason: phase.reason, message: phase.message },
            ];
    app.conditions = wanted.map((c) => {
      const before = app.conditions.find((o) => o.type === c.type);
      const unchanged = before && before.status === c.status && before.reason === c.reason;
      return { ...c, lastTransitionTime: unchanged ? before.lastTransitionTime : now };
    });
  }
}

export function readyCondition(app: AppStatus): Condition | undefined {
  return app.conditions.find((c) => c.type === 'Ready');
}
