// The data plane is supervised: every call the agent makes to it (each pass reads its routes, so every
// pass checks it) goes through here, and a data plane that is gone (its control socket refuses or is
// missing) is started again at once, serving its saved route table, and the call is made again. Each
// restart is reported (journal, status, log, notification) by `onRestart`.
import { SwitchyardError } from '../core/errors.js';
import type { Color } from '../core/app.js';
import type { AppRoute, ColorCounters, Router, Traffic } from '../core/route.js';

const GONE = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE']);

/** True when the error says the data plane's process is not there (as opposed to busy or refusing a change). */
export function dataPlaneGone(e: unknown): boolean {
  if (!(e instanceof SwitchyardError) || e.code !== 'RouteFailed') return false;
  return GONE.has((e.cause as NodeJS.ErrnoException | undefined)?.code ?? '');
}

export class SupervisedRouter implements Router {
  private restarting: Promise<void> | undefined;

  constructor(
    private readonly inner: Router,
    /** Starts the data plane again (it restores its saved routes). */
    private readonly restart: () => Promise<void>,
    private readonly onRestart: (why: string) => void,
  ) {}

  apply(route: AppRoute): Promise<void> {
    return this.supervised(() => this.inner.apply(route));
  }
  remove(app: string): Promise<void> {
    return this.supervised(() => this.inner.remove(app));
  }
  routes(): Promise<AppRoute[]> {
    return this.supervised(() => this.inner.routes());
  }
  drain(targetIds: readonly string[], timeoutMs: number): Promise<number> {
    return this.supervised(() => this.inner.drain(targetIds, timeoutMs));
  }
  counters(app: string): Promise<Partial<Record<Color, ColorCounters>>> {
    return this.supervised(() => this.inner.counters(app));
  }
  traffic(): Promise<Traffic> {
    return this.supervised(() => this.inner.traffic());
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  private async supervised<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (!dataPlaneGone(e)) throw e;
      // One restart for all the calls that found it gone at once.
      this.restarting ??= this.restart()
        .then(() => this.onRestart((e as Error).message))
        .finally(() => (this.restarting = undefined));
      await this.restarting;
      return call();
    }
  }
}
