// isomorphic-git's http transport with an idle timeout. Without one, a git server (or a proxy in front
// of it) that accepts the connection and then sends nothing holds a pass up forever, and the agent never
// says so. The clock restarts with every chunk, so a large fetch that keeps moving is never cut.
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { idleAbort } from '../../core/idle-abort.js';

/** How long a git server may send nothing, before or during its answer. */
export const GIT_IDLE_TIMEOUT_MS = 60_000;

export interface GitTransport extends HttpClient {
  /**
   * Set when a request went silent past the limit. isomorphic-git reads a cut answer as a short one (an
   * empty ref list, say), so the caller must check this after each call, not rely on an exception.
   */
  timedOut?: Error;
}

/** A transport for one source operation (listing refs, a fetch). The caller names the repository. */
export function gitHttp(idleMs = GIT_IDLE_TIMEOUT_MS): GitTransport {
  const transport: GitTransport = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const silent = new Error(`no answer for ${idleMs} ms`);
      const idle = idleAbort(idleMs, silent);
      idle.signal.addEventListener('abort', () => (transport.timedOut = silent), { once: true });
      let res: GitHttpResponse;
      try {
        res = await http.request({ ...req, signal: idle.signal } as GitHttpRequest);
      } catch (e) {
        idle.stop();
        throw transport.timedOut ?? e;
      }
      const body = res.body;
      if (!body) {
        idle.stop();
        return res;
      }
      idle.touch();
      async function* watched(): AsyncIterableIterator<Uint8Array> {
        try {
          for await (const chunk of body as AsyncIterable<Uint8Array>) {
            idle.touch();
            yield chunk;
          }
        } finally {
          idle.stop();
        }
      }
      return { ...res, body: watched() };
    },
  };
  return transport;
}
