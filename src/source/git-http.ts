// isomorphic-git's http transport with an idle timeout. Without one, a git server (or a proxy in front
// of it) that accepts the connection and then sends nothing holds a pass up forever, and the agent never
// says so. The clock restarts with every chunk, so a large fetch that keeps moving is never cut.
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';

/** How long a git server may send nothing, before or during its answer. */
export const GIT_IDLE_TIMEOUT_MS = 60_000;

export interface GitTransport extends HttpClient {
  /**
   * Set when a request went silent past the limit. isomorphic-git reads a cut answer as a short one (an
   * empty ref list, say), so the caller must check this after each call, not rely on an exception.
   */
  timedOut?: Error;
}

/** A transport for one source operation (listing refs, a fetch). */
export function gitHttp(idleMs = GIT_IDLE_TIMEOUT_MS): GitTransport {
  const transport: GitTransport = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          transport.timedOut = new Error(`no answer for ${idleMs} ms from ${req.url.replace(/\/\/[^/@]*@/, '//***@')}`);
          abort.abort(transport.timedOut);
        }, idleMs);
      };
      arm();
      let res: GitHttpResponse;
      try {
        res = await http.request({ ...req, signal: abort.signal } as GitHttpRequest);
      } catch (e) {
        clearTimeout(timer);
        throw transport.timedOut ?? e;
      }
      const body = res.body;
      if (!body) {
        clearTimeout(timer);
        return res;
      }
      arm();
      async function* watched(): AsyncIterableIterator<Uint8Array> {
        try {
          for await (const chunk of body as AsyncIterable<Uint8Array>) {
            arm();
            yield chunk;
          }
        } finally {
          clearTimeout(timer);
        }
      }
      return { ...res, body: watched() };
    },
  };
  return transport;
}
