// Runs the real `switchyard run` as a child process (the built bin), and reads its JSON logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readyCondition, type AgentStatus } from '../../src/core/status.js';
import { controlAnswers } from '../../src/adapters/dataplane/proxy-control.js';
import { proxyFiles } from '../../src/adapters/dataplane/proxy-files.js';
import { RemoteRouter } from '../../src/adapters/dataplane/remote-router.js';
import type { Runtime } from '../../src/core/runtime.js';
import { connectDocker } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { startGitServer, TestRepo, type GitServer } from './git-server.js';
import { instanceName, processGone, stateDir as newStateDir, until } from './run.js';

export interface AgentProcess {
  proc: ChildProcess;
  apiUrl: string;
  logs: Record<string, unknown>[];
  status(): Promise<AgentStatus>;
  /** True until the process has exited (stopped, killed or crashed). */
  running(): boolean;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `nodeArgs`: flags for node itself (--cpu-prof is not allowed in NODE_OPTIONS). */
export async function startAgent(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<AgentProcess> {
  const proc = spawn(process.execPath, [...nodeArgs, 'bin/switchyard.js', 'run', '--api', '127.0.0.1:0', '--log-level', 'debug', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
  });
  proc.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const apiUrl = await until(`the agent to start (stderr: ${stderr})`, () => {
    if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}: ${stderr}`);
    return logs.find((l) => l.msg === 'switchyard agent started')?.url as string | undefined;
  }, 30_000);
  return {
    proc,
    apiUrl,
    logs,
    status: async () => (await (await fetch(`${apiUrl}/status`)).json()) as AgentStatus,
    running: () => proc.exitCode === null && proc.signalCode === null,
    stop: (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Stops the proxy process an agent started for (stateDir, instance), and waits until it is gone. */
export async function stopProxy(stateDir: string, instance: string): Promise<void> {
  const { socket } = proxyFiles(stateDir, instance);
  const info = await controlAnswers(socket);
  if (!info) return;
  await new RemoteRouter(socket).shutdown();
  await processGone('the proxy to exit', info.pid);
}

/** Stops all an end-to-end test started: the agent, its proxy, the git server and repository, its containers. */
export async function tearDown(parts: { agent?: AgentProcess; stateDir: string; instance: string; server?: GitServer; repo?: TestRepo; runtime: Runtime }): Promise<void> {
  await parts.agent?.stop();
  await stopProxy(parts.stateDir, parts.instance);
  await parts.server?.close();
  parts.repo?.remove();
  for (const t of await parts.runtime.list()) await parts.runtime.remove(t.id);
}

/**
 * Commits `files` and waits until each of `apps` has that commit live and Ready: the state a test sets
 * for itself to start from, so that a test that failed before it leaves nothing it builds on.
 */
export async function commitLive(agent: AgentProcess, repo: TestRepo, files: Record<string, string>, apps: readonly string[], message = 'test: baseline'): Promise<string> {
  const commit = repo.commit(message, files);
  await until(`${message} (${commit.slice(0, 8)}) to be live and Ready for ${apps.join(', ')}`, async () => {
    const status = await agent.status();
    return apps.every((name) => {
      const app = status.apps[name];
      return app?.lastAppliedCommit === commit && readyCondition(app)?.status === 'True';
    }) ? true : undefined;
  }, 120_000);
  return commit;
}

/**
 * What an end-to-end test file runs against: its own agent instance and state dir, its containers on the
 * engine, a repository served over smart HTTP, and the agent once started. tearDown() stops all of it.
 */
export class E2eWorld {
  readonly instance = instanceName();
  readonly stateDir = newStateDir();
  readonly runtime = new DockerRuntime(connectDocker(), this.instance);
  repo!: TestRepo;
  server!: GitServer;
  agent!: AgentProcess;

  /** A fresh repository with one commit of `files`, served over HTTP. */
  async serve(files: Record<string, string>): Promise<void> {
    this.repo = new TestRepo();
    this.server = await startGitServer(this.repo.root);
    this.repo.commit('first', files);
  }

  async start(interval: string, env: Record<string, string> = {}, more: string[] = []): Promise<AgentProcess> {
    this.agent = await startAgent(['--repo', `${this.server.url}/desired.git`, '--interval', interval, '--instance', this.instance, '--state-dir', this.stateDir, ...more], env);
    return this.agent;
  }

  /** commitLive() on this world's agent and repository. */
  settle(files: Record<string, string>, apps: readonly string[], message?: string): Promise<string> {
    return commitLive(this.agent, this.repo, files, apps, message);
  }

  tearDown(): Promise<void> {
    return tearDown(this);
  }
}
