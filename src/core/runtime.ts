// The container runtime as the executor sees it. DockerRuntime is the real one; tests use a fake.
import type { LiveTarget, TargetSpec } from './target.js';

export interface Runtime {
  /** Every container this agent instance owns (by label), running or not. Never anything else. */
  list(): Promise<LiveTarget[]>;
  /** Creates and starts a container. Pulls a missing image. Throws SwitchyardError (ImagePullFailed, CreateFailed, PortInUse...). */
  create(spec: TargetSpec): Promise<LiveTarget>;
  /** The target now, or undefined when it no longer exists. */
  inspect(id: string): Promise<LiveTarget | undefined>;
  /** Stops and removes. A target that is already gone counts as removed. */
  remove(id: string): Promise<void>;
  /**
   * Calls `onEvent` for each lifecycle event of this agent's containers (a target died, was killed by
   * the OOM killer, started, was paused by hand, or its image's HEALTHCHECK called it unhealthy) until `signal` aborts; reconnects when the engine goes away and comes back.
   */
  watch?(onEvent: (e: TargetEvent) => void, signal: AbortSignal): Promise<void>;
}

export interface TargetEvent {
  id: string;
  app: string;
  action: 'die' | 'oom' | 'start' | 'pause' | 'unhealthy';
}
