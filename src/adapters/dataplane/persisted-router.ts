// A Router that records its table after every change, so the proxy process restarts into it.
import type { Color } from '../../core/app.js';
import type { AppRoute, ColorCounters, Router, Traffic } from '../../core/route.js';
import type { RouteStore } from './route-store.js';

export class PersistedRouter implements Router {
  constructor(private readonly inner: Router, private readonly store: RouteStore) {}

  async apply(route: AppRoute): Promise<void> {
    await this.inner.apply(route);
    this.store.save(await this.inner.routes());
  }
  async remove(app: string): Promise<void> {
    await this.inner.remove(app);
    this.store.save(await this.inner.routes());
  }
  routes(): Promise<AppRoute[]> {
    return this.inner.routes();
  }
  drain(targetIds: readonly string[], timeoutMs: number): Promise<number> {
    return this.inner.drain(targetIds, timeoutMs);
  }
  counters(app: string): Promise<Partial<Record<Color, ColorCounters>>> {
    return this.inner.counters(app);
  }
  traffic(): Promise<Traffic> {
    return this.inner.traffic();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
