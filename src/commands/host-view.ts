// How the loader sees this host for an agent config: host paths with their links resolved, the shared
// ports it serves, whether it orders certificates, and what the configured data plane can route (HAProxy
// has a fixed number of server slots).
import { realHost } from '../adapters/files/host-view.js';
import { SLOTS } from '../adapters/haproxy/config.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { HostView } from '../core/host.js';

export function agentHost(config: Pick<AgentConfig, 'router' | 'entrypoints' | 'acme'>): HostView {
  const entrypoints = { http: Boolean(config.entrypoints.http), https: Boolean(config.entrypoints.https) };
  const acme = Boolean(config.acme);
  if (config.router !== 'haproxy') return { ...realHost, entrypoints, acme };
  return { ...realHost, entrypoints, acme, maxTargetsPerColor: SLOTS };
}
