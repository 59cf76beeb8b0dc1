// How the loader sees this host for an agent config: host paths with their links resolved, the shared
// ports it serves, whether it orders certificates, and what the configured data plane can route (HAProxy
// has a fixed number of server slots).
import { realHost } from '../adapters/files/host-view.js';
import { SLOTS } from '../adapters/haproxy/config.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { HostView } from '../core/host.js';
import type { ChallengeType } from '../core/certificates.js';

export function agentHost(config: Pick<AgentConfig, 'router' | 'runtime' | 'entrypoints' | 'acme'>): HostView {
  const entrypoints = { http: Boolean(config.entrypoints.http), https: Boolean(config.entrypoints.https) };
  // HAProxy answers HTTP-01 only; the embedded proxy TLS-ALPN-01 too.
  const acmeChallenges: ChallengeType[] = !config.acme ? [] : config.router === 'haproxy' ? ['http-01'] : ['http-01', 'tls-alpn-01'];
  const runtime = config.runtime;
  if (config.router !== 'haproxy') return { ...realHost, runtime, entrypoints, acmeChallenges };
  // HAProxy's stats keep no latency histogram: a guard's maxP99 cannot be judged there.
  return { ...realHost, runtime, entrypoints, acmeChallenges, maxTargetsPerColor: SLOTS, measuresLatency: false };
}
