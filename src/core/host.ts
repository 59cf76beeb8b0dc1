// The host a commit will run on, as the loader sees it: its paths (as text only, in a repository's CI; or
// with links resolved, on the agent's host) and what its data plane can route.
import { normalizePath } from './host-path.js';
import type { ChallengeType } from './certificates.js';

export interface HostView {
  /** The path with every symbolic link resolved (a missing tail is kept as written). */
  realpath(path: string): string;
  /** The most targets of one color the data plane can route (HAProxy's server slots); absent: no limit. */
  maxTargetsPerColor?: number;
  /** The shared ports this agent serves; absent when unknown (a repository's CI judges without them). */
  entrypoints?: { http: boolean; https: boolean };
  /** False when the data plane keeps no latency histogram (HAProxy): a guard's maxP99 is refused. Absent: unknown. */
  measuresLatency?: boolean;
  /** Where targets run (the agent's runtime); absent when unknown: a repository's CI judges fields of both. */
  runtime?: 'docker' | 'swarm';
  /** The ACME challenges the agent can answer (none: no acme settings); absent when unknown. */
  acmeChallenges?: readonly ChallengeType[];
}

/** Paths as text only, no limit known: what a repository's CI can judge. */
export const TEXT_ONLY: HostView = { realpath: normalizePath };
