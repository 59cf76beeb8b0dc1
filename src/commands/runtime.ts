// Which runtime the agent's targets live on (the agent config's `runtime`): containers on this host's
// engine, or services on the swarm this engine manages. run, plan and logs all read targets through it.
import { connectDocker } from '../adapters/docker/connect.js';
import { DockerRuntime, type DockerRuntimeOptions } from '../adapters/docker/containers.js';
import { SwarmRuntime } from '../adapters/docker/swarm/swarm-runtime.js';
import type { AgentConfig } from '../config/agent-config.js';

export type TargetRuntime = DockerRuntime | SwarmRuntime;

export function targetRuntime(config: Pick<AgentConfig, 'runtime' | 'instance'>, opts: Omit<DockerRuntimeOptions, 'bindHost'> = {}): TargetRuntime {
  const docker = connectDocker();
  return config.runtime === 'swarm' ? new SwarmRuntime(docker, config.instance, opts) : new DockerRuntime(docker, config.instance, opts);
}
