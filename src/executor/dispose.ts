// Removing targets this pass created that did not make it (a failed gate, a failed create, a newer
// commit). A removal that fails is logged, never thrown: the next pass lists and removes them again.
import { errorMessage } from '../core/errors.js';
import type { LiveTarget } from '../core/target.js';
import type { ExecutorDeps } from './deps.js';

export async function dispose(targets: readonly LiveTarget[], deps: Pick<ExecutorDeps, 'runtime' | 'log'>): Promise<void> {
  if (!targets.length) return;
  deps.log.info({ targets: targets.map((t) => t.name) }, 'disposing targets that did not make it');
  await Promise.all(targets.map((t) => deps.runtime.remove(t.id).catch((e) => deps.log.warn({ target: t.name, err: errorMessage(e) }, 'dispose failed'))));
}
