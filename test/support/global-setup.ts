// Once per test run: a run id that labels everything the run creates, and the test images (when a
// Docker engine answers). At the end, everything labelled with the run id is removed.
import type { TestProject } from 'vitest/node';
import { buildTestImage, cleanupRun, dockerAnswers } from './docker-cli.js';

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string;
    images: { ok: string; sick: string } | null;
  }
}

export default function setup(project: TestProject) {
  const runId = `r${Date.now().toString(36)}`;
  project.provide('runId', runId);
  const docker = dockerAnswers();
  project.provide('images', docker ? { ok: buildTestImage(runId, 'ok'), sick: buildTestImage(runId, 'sick') } : null);
  return () => {
    if (docker) cleanupRun(runId, `t${runId}`);
  };
}
