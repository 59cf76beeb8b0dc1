// Supersede: while a pass is changing apps (a long health gate, a roll), a newer commit on the branch
// cancels it. Gates stop, what the pass created is disposed, the route stays, and the next pass starts
// at once with the newest commit. With `verify`, only a commit that passes it supersedes: an unsigned
// push cannot cancel a flip in progress.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Source } from '../core/source.js';
import { verifySnapshot, type VerifyPolicy } from '../desired/verify.js';

/** Aborts `superseded` when the branch tip moves past `commit`, checking once per interval until `done`. */
export async function watchTip(
  deps: { source: Source; clock: Clock; verify?: VerifyPolicy },
  commit: string,
  intervalMs: number,
  superseded: AbortController,
  done: AbortSignal,
  onSuperseded: () => void,
  log: Logger,
): Promise<void> {
  const both = AbortSignal.any([done, superseded.signal]);
  while (!both.aborted) {
    await deps.clock.sleep(intervalMs, both);
    if (both.aborted) return;
    const tip = await deps.source.latest().catch(() => undefined);
    if (tip && tip.commit !== commit && (!deps.verify || (await verifySnapshot(tip, deps.verify, deps.clock.now())).ok)) {
      log.info({ commit, newer: tip.commit }, 'a newer commit supersedes the work in progress');
      onSuperseded();
      superseded.abort();
    }
  }
}
