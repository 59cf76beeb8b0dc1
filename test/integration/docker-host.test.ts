// DOCKER_HOST as the docker CLI reads it: unix:// and tcp:// are honoured (the real engine, reached over
// TCP through a forwarder on 127.0.0.1), TLS settings are taken from DOCKER_CERT_PATH, and an address
// Switchyard cannot use is refused with what to do instead of being silently ignored.
import { createServer, connect, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDocker, engineAddress } from '../../src/adapters/docker/connect.js';
import { DockerRuntime } from '../../src/adapters/docker/containers.js';
import { instanceName } from '../support/run.js';

describe('DOCKER_HOST', () => {
  let forwarder: Server | undefined;
  afterAll(() => new Promise<void>((r) => (forwarder ? forwarder.close(() => r()) : r())));

  it('reaches the real engine over tcp:// (a forwarder on 127.0.0.1 to its socket) and over unix://', async () => {
    forwarder = createServer((client) => {
      const engine = connect('/var/run/docker.sock');
      client.pipe(engine).pipe(client);
      client.on('error', () => engine.destroy());
      engine.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => forwarder!.listen(0, '127.0.0.1', r));
    const port = (forwarder.address() as { port: number }).port;
    const instance = instanceName();
    const overTcp = new DockerRuntime(connectDocker({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }), instance);
    expect(await overTcp.list()).toEqual([]);
    const overUnix = new DockerRuntime(connectDocker({ DOCKER_HOST: 'unix:///var/run/docker.sock' }), instance);
    expect(await overUnix.list()).toEqual([]);
    // With the forwarder gone, the tcp engine does not answer: DockerUnavailable, not the default socket.
    await new Promise<void>((r) => forwarder!.close(() => r()));
    forwarder = undefined;
    await expect(overTcp.list()).rejects.toMatchObject({ code: 'DockerUnavailable', message: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('takes TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, and refuses what it cannot use', () => {
    const files: Record<string, string> = { '/certs/ca.pem': 'CA', '/certs/cert.pem': 'CERT', '/certs/key.pem': 'KEY' };
    const read = (p: string) => {
      if (!(p in files)) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return Buffer.from(files[p]!);
    };
    expect(engineAddress({}, read)).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(engineAddress({ DOCKER_HOST: 'tcp://docker.example:2375' }, read)).toEqual({ protocol: 'http', host: 'docker.example', port: 2375 });
    expect(engineAddress({ DOCKER_HOST: 'tcp://docker.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }, read)).toEqual({
      protocol: 'https', host: 'docker.example', port: 2376, ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'),
    });
    expect(() => engineAddress({ DOCKER_HOST: 'tcp://docker.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nope' }, read)).toThrow(/DOCKER_TLS_VERIFY is set but \/nope\/ca\.pem cannot be read \(ENOENT\)/);
    expect(() => engineAddress({ DOCKER_HOST: 'ssh://deploy@host' }, read)).toThrow(expect.objectContaining({ code: 'UsageError', message: 'DOCKER_HOST=ssh://deploy@host is not an engine address Switchyard can use', hint: expect.stringMatching(/ssh:\/\/ is not supported/) }));
  });
});
