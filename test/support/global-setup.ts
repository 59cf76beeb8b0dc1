// Once per test run: build dist/ (end-to-end tests run the real bin), a run id that labels everything
// the run creates, and the test images (when a Docker engine answers). At the end, everything labelled
// with the run id is removed.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildTestImage, cleanupRun, dockerAnswers } from './docker-cli.js';
import { runStateRoot } from './paths.js';
import { labLeftovers } from './swarm-lab.js';
import { deleteBridge, DOCKERD_PID, killUnder, privateBridge, unmountUnder } from './private-dockerd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string;
    images: { ok: string; sick: string; checked: string } | null;
  }
}

export default function setup(project: TestProject) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const runId = `r${Date.now().toString(36)}`;
  project.provide('runId', runId);
  const docker = dockerAnswers();
  project.provide('images', docker ? { ok: buildTestImage(runId, 'ok'), sick: buildTestImage(runId, 'sick'), checked: buildTestImage(runId, 'checked') } : null);
  return () => {
    stopLeftoverProxies(runStateRoot(runId), runId);
    if (docker) cleanupRun(runId, `t${runId}`);
  };
}

/**
 * A test that failed midway may leave a proxy, HAProxy or its private dockerd running: stop every one
 * this run started. dockerd gets SIGTERM (it then stops its containers and containerd) and is waited for.
 */
function stopLeftoverProxies(root: string, runId: string): void {
  let dirs: string[] = [];
  try {
    dirs = readdirSync(root).map((d) => join(root, d));
  } catch {
    return;
  }
  for (const dir of dirs) {
    const pidFiles = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.proxy.pid') || n.endsWith('haproxy.pid') || n.endsWith(DOCKERD_PID));
    for (const f of pidFiles) {
      const pid = Number(readFileSync(join(dir, f), 'utf8'));
      const dockerd = f.endsWith(DOCKERD_PID);
      if (pid > 0 && signal(pid, dockerd ? 'SIGTERM' : 'SIGKILL') && dockerd) {
        for (let i = 0; i < 300 && signal(pid, 0); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
  }
  labLeftovers(runId, join(root, 'swarm'));
  killUnder(root);
  deleteBridge(privateBridge(runId));
  unmountUnder(root);
  rmSync(root, { recursive: true, force: true });
}

/** True when the process exists (and took the signal). */
function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
