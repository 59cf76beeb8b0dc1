// The host as the policy sees it on the agent's machine: host paths with their symbolic links resolved.
// A path that does not exist (yet) resolves its longest existing part and keeps the rest as written, so a
// link anywhere above it still counts.
import { realpathSync } from 'node:fs';
import { posix } from 'node:path';
import { normalizePath } from '../../core/host-path.js';
import type { HostView } from '../../core/host.js';

export const realHost: HostView = {
  realpath(path: string): string {
    let head = normalizePath(path);
    const tail: string[] = [];
    for (;;) {
      try {
        return normalizePath(posix.join(realpathSync(head), ...tail));
      } catch {
        if (head === '/' || head === '.' || head === '') return normalizePath(path);
        tail.unshift(posix.basename(head));
        head = posix.dirname(head);
      }
    }
  },
};
