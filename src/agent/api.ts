// The agent's HTTP API. Handlers only parse and delegate. Binds loopback by default.
import { createServer, type Server } from 'node:http';
import type { AgentStatus } from './status.js';

export interface ApiHandlers {
  status(): AgentStatus;
}

export function startApi(handlers: ApiHandlers, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body, null, 2);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/status') return send(200, handlers.status());
    if (req.method === 'GET' && path === '/healthz') return send(200, { ok: true });
    send(404, { error: `no route ${req.method} ${path}`, hint: 'see GET /status' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      resolve({ server, url: `http://${host}:${bound}` });
    });
  });
}
