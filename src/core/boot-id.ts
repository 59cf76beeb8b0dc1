// This boot of the host (Linux's boot_id). A data plane's saved route table from an earlier boot is not
// served: every container has a new port since, and an old port may belong to another container.
import { readFileSync } from 'node:fs';

export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** True when a record saved at boot `saved` may be used in boot `now` (unknown on either side: yes). */
export function sameBoot(saved: string | undefined, now: string | undefined): boolean {
  return !saved || !now || saved === now;
}
