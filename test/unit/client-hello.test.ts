// The ClientHello reader on real bytes: node's TLS client sends its hello to a plain TCP server in this
// process, which reads the server name and the ALPN protocols from it.
import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseClientHello, recordBytesMissing } from '../../src/adapters/dataplane/client-hello.js';

function helloOf(opts: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    const server = createServer((socket) =>
      socket.on('data', (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        if (recordBytesMissing(head) === 0) {
          socket.destroy();
          server.close();
          resolve(head);
        }
      }),
    );
    server.listen(0, '127.0.0.1', () => {
      const client = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1', ...opts });
      client.on('error', () => undefined);
    });
  });
}

describe('the ClientHello reader', () => {
  it('reads the server name and the ALPN protocols a real client sends', async () => {
    const hello = await helloOf({ servername: 'Shop.Example.com', ALPNProtocols: ['acme-tls/1', 'http/1.1'] });
    expect(parseClientHello(hello)).toEqual({ serverName: 'shop.example.com', alpn: ['acme-tls/1', 'http/1.1'] });
    expect(parseClientHello(await helloOf({}))).toEqual({ alpn: [] });
  });

  it('says how much of the first record is missing, and reads anything else as nothing asked', async () => {
    const hello = await helloOf({ servername: 'a.test' });
    expect(recordBytesMissing(hello.subarray(0, 3))).toBe(2);
    expect(recordBytesMissing(hello.subarray(0, 20))).toBe(hello.length - 20);
    expect(recordBytesMissing(Buffer.from('GET / HTTP/1.1\r\n'))).toBeUndefined();
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toEqual({ alpn: [] });
    expect(parseClientHello(hello.subarray(0, 60))).toEqual({ alpn: [] });
  });
});
