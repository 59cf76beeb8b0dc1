// Smoke checks over HTTP(S): one request with the check's method and headers, judged on its status
// and on a text its body must contain. Reads at most 64 KiB of the body: a check is not a download.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CheckResult, Checker } from '../../core/checker.js';
import { socketProblem } from './http-prober.js';

const MAX_BODY = 64 * 1024;

export const httpChecker: Checker = {
  check: (target, check) =>
    new Promise<CheckResult>((resolve) => {
      const path = `${target.pathPrefix === '/' ? '' : target.pathPrefix}${check.path}`;
      const options = { host: target.host, port: target.port, path, method: check.method, timeout: check.timeoutMs, agent: false, headers: { 'user-agent': 'switchyard-check', ...target.headers, ...check.headers } };
      const onAnswer = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_BODY) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8');
          const excerpt = body.replace(/\s+/g, ' ').trim().slice(0, 200);
          const statusOk = check.expectStatus !== undefined ? status === check.expectStatus : status >= 200 && status < 300;
          const bodyOk = check.bodyContains === undefined || body.includes(check.bodyContains);
          const why = !statusOk ? `got ${status}, expected ${check.expectStatus ?? '2xx'}` : !bodyOk ? `got ${status}, but the body lacks ${JSON.stringify(check.bodyContains)}` : undefined;
          resolve({ ok: statusOk && bodyOk, status, excerpt, ...(why ? { why } : {}) });
        });
        res.on('error', (e) => resolve({ ok: false, why: e.message }));
      };
      const req = target.tls ? httpsRequest({ ...options, servername: target.tls.servername, rejectUnauthorized: false }, onAnswer) : httpRequest(options, onAnswer);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${check.timeoutMs}ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, why: socketProblem(e) }));
      req.end();
    }),
};
