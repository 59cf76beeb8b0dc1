// Which app a request on a shared entrypoint goes to: by host name (exact before `*.parent`), then by the
// longest path prefix. Built once per route change, read once per request; pure.
import { candidates, underPrefix } from '../../core/hostname.js';
import type { AppRoute } from '../../core/route.js';

export interface HostEntry {
  app: string;
  pathPrefix: string;
  stripPrefix: boolean;
}

export class HostTable {
  /** Per claimed name, its entries by prefix length, longest first. */
  private readonly byName = new Map<string, HostEntry[]>();

  constructor(routes: readonly AppRoute[]) {
    for (const r of routes) {
      if (!r.hosts) continue;
      for (const name of r.hosts.names) {
        const list = this.byName.get(name) ?? [];
        list.push({ app: r.app, pathPrefix: r.hosts.pathPrefix, stripPrefix: r.hosts.stripPrefix });
        list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
        this.byName.set(name, list);
      }
    }
  }

  get size(): number {
    return this.byName.size;
  }

  lookup(host: string, path: string): HostEntry | undefined {
    for (const name of candidates(host)) {
      const found = this.byName.get(name)?.find((e) => underPrefix(path, e.pathPrefix));
      if (found) return found;
    }
    return undefined;
  }
}
