// The state folder holds the API token, the journal, the route table and the git cache: owner-only. A
// process that writes there makes everything it creates owner-only (umask, inherited by the data plane it
// starts), and the folder itself 0700 even when it existed before.
import { chmodSync, mkdirSync } from 'node:fs';

export function ownerOnly(stateDir: string): void {
  process.umask(0o077);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
}
