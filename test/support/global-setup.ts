// Once per test run: build dist/ (end-to-end tests run the real bin), a run id that labels everything
// the run creates, and the test images (when a Docker engine answers). At the end, everything labelled
// with the run id is removed.
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { buildTestImage, cleanupRun, dockerAnswers } from './docker-cli.js';

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string;
    images: { ok: string; sick: string } | null;
  }
}

export default function setup(project: TestProject) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const runId = `r${Date.now().toString(36)}`;
  project.provide('runId', runId);
  const docker = dockerAnswers();
  project.provide('images', docker ? { ok: buildTestImage(runId, 'ok'), sick: buildTestImage(runId, 'sick') } : null);
  return () => {
    if (docker) cleanupRun(runId, `t${runId}`);
  };
}
