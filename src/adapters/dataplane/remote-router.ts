// The Router the agent uses by default: a client of a standalone proxy process over its control socket.
// The proxy, not the agent, holds the routes, so an agent restart (even SIGKILL) changes nothing live.
import { request } from 'node:http';
import type { Color } from '../../core/app.js';
import { SwitchyardError } from '../../core/errors.js';
import { fromWire, type WireError } from './wire-error.js';
import type { AppRoute, ColorCounters, Router, Traffic } from '../../core/route.js';
import type { ChallengeResponder } from '../../core/certificates.js';

/** How long the proxy may take to answer a control call (a drain may take its own timeout on top). */
export const CONTROL_TIMEOUT_MS = 10_000;

export class RemoteRouter implements Router, ChallengeResponder {
  private readonly timeoutMs: number;

  constructor(private readonly socketPath: string, opts: { timeoutMs?: number } = {}) {
    this.timeoutMs = opts.timeoutMs ?? CONTROL_TIMEOUT_MS;
  }

  async apply(route: AppRoute): Promise<void> {
    await this.call('PUT', `/routes/${route.app}`, route);
  }
  async remove(app: string): Promise<void> {
    await this.call('DELETE', `/routes/${app}`);
  }
  async routes(): Promise<AppRoute[]> {
    return (await this.call('GET', '/routes')) as AppRoute[];
  }
  async drain(targetIds: readonly string[], timeoutMs: number): Promise<number> {
    return ((await this.call('POST', '/drain', { targetIds, timeoutMs }, timeoutMs)) as { left: number }).left;
  }
  async counters(app: string): Promise<Partial<Record<Color, ColorCounters>>> {
    return (await this.call('GET', `/counters/${app}`)) as Partial<Record<Color, ColorCounters>>;
  }
  async traffic(): Promise<Traffic> {
    try {
      return (await this.call('GET', '/traffic')) as Traffic;
    } catch (e) {
      // A proxy started by an earlier version (it outlives agent upgrades) knows only one app at a time.
      if (!(e instanceof SwitchyardError && e.code === 'UsageError')) throw e;
      const apps = (await this.routes()).map((r) => r.app);
      return Object.fromEntries(await Promise.all(apps.map(async (app) => [app, await this.counters(app)] as const)));
    }
  }
  async answer(token: string, keyAuthorization: string): Promise<void> {
    await this.call('PUT', `/acme-challenges/${token}`, { keyAuthorization });
  }
  async withdraw(token: string): Promise<void> {
    await this.call('DELETE', `/acme-challenges/${token}`);
  }
  readonly challengeTypes = ['http-01', 'tls-alpn-01'] as const;
  async answerTlsAlpn(name: string, certPem: string, keyPem: string): Promise<void> {
    await this.call('PUT', `/acme-tls-alpn/${name}`, { certPem, keyPem });
  }
  async withdrawTlsAlpn(name: string): Promise<void> {
    await this.call('DELETE', `/acme-tls-alpn/${name}`);
  }
  /** The agent stopping leaves the proxy running: that is the point. */
  async close(): Promise<void> {}

  /** Asks the proxy process itself to drain and exit. */
  async shutdown(): Promise<void> {
    // The proxy may close the connection as it exits, before its answer arrives: that is success too.
    await this.call('POST', '/shutdown').catch((e: unknown) => {
      if (!(e instanceof SwitchyardError && e.code === 'RouteFailed')) throw e;
    });
  }

  /**
   * One control call. A proxy that accepts the connection but does not answer (stopped, wedged) fails the
   * call after the timeout, plus `waitMs` for a call that waits by design: a pass must not hang on it.
   */
  private call(method: string, path: string, body?: unknown, waitMs = 0): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        // A fresh connection per call: a kept-alive one can be closed by the proxy's idle timeout just
        // as a call reuses it (EPIPE). Control calls are few; a connect on a unix socket is cheap.
        { socketPath: this.socketPath, method, path, agent: false, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              return reject(new SwitchyardError('RouteFailed', `proxy answered ${res.statusCode} with no JSON`));
            }
            if ((res.statusCode ?? 500) < 300) return resolve(parsed);
            const err = parsed as Partial<WireError>;
            reject(fromWire({ ...err, message: err.message ?? `proxy answered ${res.statusCode}` }));
          });
        },
      );
      const limit = this.timeoutMs + waitMs;
      const timer = setTimeout(() => {
        req.destroy();
        reject(new SwitchyardError('RouteFailed', `the proxy on ${this.socketPath} did not answer ${method} ${path} within ${limit} ms`, {
          hint: 'it may be stopped (SIGSTOP) or overloaded: check the process whose pid is in <state-dir>/<instance>.proxy.pid; the agent retries',
        }));
      }, limit);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(new SwitchyardError('RouteFailed', `the proxy does not answer on ${this.socketPath} (${e.code ?? e.message})`, {
          hint: 'the agent starts it when it is missing; or run `switchyard proxy` yourself',
          cause: e,
        })),
      );
      req.end(payload);
    });
  }
}
