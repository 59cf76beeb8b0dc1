import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The folder under which a test run keeps agent and proxy state; the global teardown sweeps it. */
export function runStateRoot(runId: string): string {
  return join(tmpdir(), `switchyard-test-${runId}`);
}
