// The control API of a standalone proxy process (`switchyard proxy`): HTTP+JSON on a unix socket that
// only its owner can open. The agent drives the proxy through it (RemoteRouter); the data plane keeps
// serving whatever happens to the agent. Handlers only parse and delegate.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CATALOGUE, SwitchyardError } from '../../core/errors.js';
import { readBody, sendJson } from '../../core/http-json.js';
import type { AppRoute, Router } from '../../core/route.js';
import type { ChallengeResponder } from '../../core/certificates.js';
import { toWire } from './wire-error.js';

const MAX_BODY = 1024 * 1024;

export interface ControlInfo {
  pid: number;
  version: string;
  startedAt: number;
  /** process.memoryUsage() of the proxy when it answered (bytes); of the primary when it has workers. */
  memory?: NodeJS.MemoryUsage;
  /** The pids of its workers that serve, when it runs several (`--workers N`). */
  workers?: number[];
}

/** The control socket drives the routes, and the answers to ACME HTTP-01 challenges. */
export function serveControl(router: Router, challenges: ChallengeResponder, socketPath: string, info: ControlInfo, onShutdown: () => void): Promise<Server> {
  const server = createServer((req, res) => {
    handle(router, challenges, info, onShutdown, req, res).catch((e: unknown) => sendError(res, e));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o600);
      resolve(server);
    });
  });
}

async function handle(router: Router, challenges: ChallengeResponder, info: ControlInfo, onShutdown: () => void, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const app = /^\/routes\/([a-z0-9-]+)$/.exec(path)?.[1];
  // With the process's memory as it is now: what an operator (or bench:soak) reads to follow its growth.
  if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { ...info, memory: process.memoryUsage() });
  if (req.method === 'GET' && path === '/routes') return sendJson(res, 200, await router.routes());
  if (req.method === 'PUT' && app) {
    const route = (await readJson(req)) as AppRoute;
    if (route.app !== app) throw new SwitchyardError('UsageError', `route body is for "${route.app}", not "${app}"`);
    await router.apply(route);
    return sendJson(res, 200, { applied: app });
  }
  if (req.method === 'DELETE' && app) {
    await router.remove(app);
    return sendJson(res, 200, { removed: app });
  }
  if (req.method === 'POST' && path === '/drain') {
    const body = (await readJson(req)) as { targetIds: string[]; timeoutMs: number };
    return sendJson(res, 200, { left: await router.drain(body.targetIds, body.timeoutMs) });
  }
  const token = /^\/acme-challenges\/([A-Za-z0-9_-]{1,256})$/.exec(path)?.[1];
  if (req.method === 'PUT' && token) {
    const { keyAuthorization } = (await readJson(req)) as { keyAuthorization?: unknown };
    if (typeof keyAuthorization !== 'string' || !/^[A-Za-z0-9_.-]{1,512}$/.test(keyAuthorization)) throw new SwitchyardError('UsageError', 'keyAuthorization must be a token.thumbprint string');
    await challenges.answer(token, keyAuthorization);
    return sendJson(res, 200, { answering: token });
  }
  if (req.method === 'DELETE' && token) {
    await challenges.withdraw(token);
    return sendJson(res, 200, { withdrawn: token });
  }
  const alpnName = /^\/acme-tls-alpn\/([a-z0-9.-]{1,253})$/.exec(path)?.[1];
  if (req.method === 'PUT' && alpnName) {
    const { certPem, keyPem } = (await readJson(req)) as { certPem?: unknown; keyPem?: unknown };
    if (typeof certPem !== 'string' || typeof keyPem !== 'string') throw new SwitchyardError('UsageError', 'certPem and keyPem must be PEM strings');
    await challenges.answerTlsAlpn(alpnName, certPem, keyPem);
    return sendJson(res, 200, { answering: alpnName });
  }
  if (req.method === 'DELETE' && alpnName) {
    await challenges.withdrawTlsAlpn(alpnName);
    return sendJson(res, 200, { withdrawn: alpnName });
  }
  const counters = /^\/counters\/([a-z0-9-]+)$/.exec(path)?.[1];
  if (req.method === 'GET' && counters) return sendJson(res, 200, await router.counters(counters));
  if (req.method === 'GET' && path === '/traffic') return sendJson(res, 200, await router.traffic());
  if (req.method === 'POST' && path === '/shutdown') {
    sendJson(res, 202, { stopping: true });
    onShutdown();
    return;
  }
  sendJson(res, 404, { code: 'UsageError', message: `no control route ${req.method} ${path}` });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_BODY);
  if (!body) throw new SwitchyardError('UsageError', `control request body over ${MAX_BODY} bytes`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new SwitchyardError('UsageError', `control request body is not JSON: ${(e as Error).message}`);
  }
}

function sendError(res: ServerResponse, e: unknown): void {
  sendJson(res, e instanceof SwitchyardError ? (CATALOGUE[e.code].http ?? 409) : 500, toWire(e));
}

/** A unix socket file that nobody answers on (a proxy that was killed) is removed before listening. */
export async function clearStaleSocket(socketPath: string): Promise<void> {
  if (!existsSync(socketPath)) return;
  if (await controlAnswers(socketPath)) {
    throw new SwitchyardError('PortInUse', `a proxy already answers on ${socketPath}`, { hint: 'stop it first (switchyard proxy --stop) or use another --state-dir' });
  }
  unlinkSync(socketPath);
}

export function controlAnswers(socketPath: string): Promise<ControlInfo | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/healthz', method: 'GET', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(body) as ControlInfo) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
