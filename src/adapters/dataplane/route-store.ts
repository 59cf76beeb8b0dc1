// The proxy's route table on disk, so a restarted proxy serves at once what it served before (a
// missing file is normal: nothing was routed yet). Written atomically: a crash leaves the old table or
// the new one, never a torn file. A table saved before the host rebooted is not served: every container
// has a new port since, and an old port may now belong to another container; the agent routes again once
// it has seen the targets.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bootId, sameBoot } from '../../core/boot-id.js';
import type { AppRoute } from '../../core/route.js';

export class RouteStore {
  constructor(
    private readonly path: string,
    private readonly boot: string | undefined = bootId(),
  ) {}

  load(): AppRoute[] {
    try {
      const record = JSON.parse(readFileSync(this.path, 'utf8')) as { routes?: AppRoute[]; boot?: string };
      if (!sameBoot(record.boot, this.boot)) return [];
      return Array.isArray(record.routes) ? record.routes : [];
    } catch {
      return [];
    }
  }

  save(routes: readonly AppRoute[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ boot: this.boot, routes }, null, 2)}\n`);
    renameSync(tmp, this.path);
  }
}
