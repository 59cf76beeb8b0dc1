// The proxy's route table on disk, so a restarted proxy serves at once what it served before (a
// missing file is normal: nothing was routed yet). Written atomically: a crash leaves the old table or
// the new one, never a torn file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AppRoute } from '../../core/route.js';

export class RouteStore {
  constructor(private readonly path: string) {}

  load(): AppRoute[] {
    try {
      const record = JSON.parse(readFileSync(this.path, 'utf8')) as { routes?: AppRoute[] };
      return Array.isArray(record.routes) ? record.routes : [];
    } catch {
      return [];
    }
  }

  save(routes: readonly AppRoute[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ routes }, null, 2)}\n`);
    renameSync(tmp, this.path);
  }
}
