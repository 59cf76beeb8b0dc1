// Real HTTP backends on 127.0.0.1:0 for proxy tests. Each answers with its name and counts hits.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Color } from '../../src/core/app.js';
import type { RouteTarget } from '../../src/core/route.js';

export interface Backend {
  name: string;
  hits: number;
  server: Server;
  target: RouteTarget;
  /** Requests to /slow wait here until release(). */
  release(): void;
  close(): Promise<void>;
}

export async function startBackend(name: string, color: Color): Promise<Backend> {
  const held: ServerResponse[] = [];
  let released = false;
  const backend: Partial<Backend> = { name, hits: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    backend.hits!++;
    if (req.url === '/slow' && !released) {
      held.push(res);
      return;
    }
    res.setHeader('x-path', req.url ?? '');
    res.end(name);
  });
  server.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n');
    socket.write(`hello from ${name}\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return Object.assign(backend, {
    server,
    target: { id: name, color, host: '127.0.0.1', port },
    release: () => {
      released = true;
      for (const res of held.splice(0)) res.end(name);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as Backend;
}
