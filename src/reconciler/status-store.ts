// The agent's status, in one vocabulary (Flux-style): per app a Ready condition, plus Reconciling or
// Stalled while true, each with a reason from the catalogue and a lowercase message. Both the last attempted and
// the last applied commit are kept, so a bad commit never hides the good one that is live.
import type { Clock } from '../core/clock.js';
import type { Color } from '../core/app.js';
import type { AgentStatus, AppStatus, Condition, Reason } from '../core/status.js';
import type { Signer } from '../core/signature.js';


/** `degraded`: live differs from what git asks (a guard flipped back): a Degraded condition says how. */
export type Phase = { phase: 'Reconciling'; reason: 'Progressing'; message: string } | { phase: 'Ready'; message: string } | { phase: 'Stalled'; reason: Reason; message: string; degraded?: string };

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

  /**
   * A commit was looked at: refused (its errors, why, and the key that signed it if any), or taken as the
   * desired state in force (with its verified signer, when `verify` is set).
   */
  desiredAttempted(commit: string, errors: string[], about: { reason?: 'ValidationFailed' | 'UnverifiedCommit'; fingerprint?: string; signer?: Signer } = {}): void {
    const desired = this.state.desired;
    desired.lastAttemptedCommit = commit;
    desired.errors = errors;
    delete desired.reason;
    delete desired.fingerprint;
    if (errors.length) {
      if (about.reason) desired.reason = about.reason;
      if (about.fingerprint) desired.fingerprint = about.fingerprint;
      return;
    }
    this.desiredInForce(commit, about.signer);
  }

  /** The desired state in force came from `commit` (e.g. the last good one, recovered after a restart). */
  desiredInForce(commit: string, signer?: Signer): void {
    this.state.desired.commit = commit;
    if (signer) this.state.desired.signer = signer;
    else delete this.state.desired.signer;
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
  }

  dataPlaneRestarted(error: string): void {
    this.state.dataPlane = { restarts: (this.state.dataPlane?.restarts ?? 0) + 1, lastRestartAt: this.clock.now(), lastError: error };
  }

  clearStale(): void {
    delete this.state.stale;
  }

  raiseStale(message: string): void {
    this.state.stale = { since: this.clock.now(), message };
  }

  update(name: string, patch: Partial<Pick<AppStatus, 'activeColor' | 'lastAttemptedCommit' | 'lastAppliedCommit' | 'targets' | 'traffic' | 'suspended' | 'certificate'>>): void {
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
              ...(phase.degraded ? [{ type: 'Degraded' as const, status: 'True' as const, reason: phase.reason, message: phase.degraded }] : []),
            ];
    app.conditions = wanted.map((c) => {
      const before = app.conditions.find((o) => o.type === c.type);
      const unchanged = before && before.status === c.status && before.reason === c.reason;
      return { ...c, lastTransitionTime: unchanged ? before.lastTransitionTime : now };
    });
  }
}
