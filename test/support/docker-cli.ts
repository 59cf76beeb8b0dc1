// Test-only helpers that use the docker CLI: build the test images and clean up what a run created.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_LABEL = 'dev.switchyard.test-run';

export function dockerAnswers(): boolean {
  return spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
}

/**
 * Builds the example hello image for this run, or a variant: `sick` has no /healthz (never healthy);
 * `checked` has a Docker HEALTHCHECK that fails once the file /sick exists in the container (twice in a row, so
 * that one slow check on a loaded machine does not call a healthy target unhealthy).
 */
export function buildTestImage(runId: string, variant: 'ok' | 'sick' | 'checked'): string {
  const tag = `switchyard-test/hello:${runId}-${variant}`;
  const ctx = mkdtempSync(join(tmpdir(), 'sy-img-'));
  try {
    cpSync('example-repo/images/hello', ctx, { recursive: true });
    copyFileSync('/bin/busybox', join(ctx, 'busybox'));
    if (variant === 'sick') rmSync(join(ctx, 'www', 'healthz'));
    if (variant === 'checked') appendFileSync(join(ctx, 'Dockerfile'), 'HEALTHCHECK --interval=1s --timeout=5s --retries=2 CMD ["/bin/busybox", "sh", "-c", "[ ! -e /sick ]"]\n');
    execFileSync('docker', ['build', '-q', '--build-arg', `VERSION=${variant}`, '--label', `${TEST_LABEL}=${runId}`, '-t', tag, ctx], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return tag;
}

/** Removes the containers of every agent instance whose name starts with `prefix`, and this run's images (built ones too). */
export function cleanupRun(runId: string, instancePrefix: string): void {
  const ids = execFileSync('docker', ['ps', '-a', '--filter', 'label=dev.switchyard.instance', '--format', '{{.ID}} {{.Label "dev.switchyard.instance"}}'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter(([id, instance]) => id && instance?.startsWith(instancePrefix))
    .map(([id]) => id!);
  const labelled = execFileSync('docker', ['ps', '-aq', '--filter', `label=${TEST_LABEL}=${runId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const all = [...new Set([...ids, ...labelled])];
  if (all.length) spawnSync('docker', ['rm', '-f', ...all], { stdio: 'ignore' });
  const images = execFileSync('docker', ['images', '-q', '--filter', `label=${TEST_LABEL}=${runId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  // Images the agents built (`build:`), labelled with their instance.
  const built = execFileSync('docker', ['images', '-q', '--filter', 'label=dev.switchyard.instance'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const ours = built.length
    ? execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}} {{index .Config.Labels "dev.switchyard.instance"}}', ...new Set(built)], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim().split(' '))
        .filter(([id, instance]) => id && instance?.startsWith(instancePrefix))
        .map(([id]) => id!)
    : [];
  // Named volumes the agents created for their apps, and volumes the tests made (labelled with the run).
  const volumes = execFileSync('docker', ['volume', 'ls', '--filter', 'label=dev.switchyard.instance', '--format', '{{.Name}} {{.Label "dev.switchyard.instance"}}'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter(([name, instance]) => name && instance?.startsWith(instancePrefix))
    .map(([name]) => name!);
  const madeVolumes = execFileSync('docker', ['volume', 'ls', '-q', '--filter', `label=${TEST_LABEL}=${runId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (volumes.length + madeVolumes.length) spawnSync('docker', ['volume', 'rm', '-f', ...volumes, ...madeVolumes], { stdio: 'ignore' });
  // Built images first: they are children of the test images.
  if (ours.length) spawnSync('docker', ['rmi', '-f', ...new Set(ours)], { stdio: 'ignore' });
  if (images.length) spawnSync('docker', ['rmi', '-f', ...new Set(images)], { stdio: 'ignore' });
}
