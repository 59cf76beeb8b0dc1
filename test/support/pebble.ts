// Debian's pebble (Let's Encrypt's ACME test server) on loopback, with pebble-challtestsrv as its DNS
// server, which answers 127.0.0.1 for every name: so pebble checks HTTP-01 challenges against the port
// the test names (the agent's shared HTTP entrypoint). Its own TLS certificate comes from the test's CA.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent, get } from 'node:https';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { until } from './run.js';
import type { TestCa } from './tls.js';

export interface Pebble {
  directory: string;
  /** The root that signs what pebble issues (PEM), for clients of the issued certificates. */
  root(): Promise<Buffer>;
  close(): Promise<void>;
}

/** `ports`: where pebble checks HTTP-01 (`http`) and TLS-ALPN-01 (`https`) challenges. */
export async function startPebble(dir: string, ca: TestCa, ports: { http: number; https?: number }): Promise<Pebble> {
  const [api, management, dns, dnsManagement] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const own = ca.issue(['localhost', '127.0.0.1'], 'pebble');
  const config = join(dir, 'pebble.json');
  writeFileSync(config, JSON.stringify({
    pebble: { listenAddress: `127.0.0.1:${api}`, managementListenAddress: `127.0.0.1:${management}`, certificate: own.certFile, privateKey: own.keyFile, httpPort: ports.http, tlsPort: ports.https ?? (await freePort()), ocspResponderURL: '', externalAccountBindingRequired: false },
  }));
  const procs: ChildProcess[] = [
    spawn('pebble-challtestsrv', ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${dnsManagement}`], { stdio: 'ignore' }),
    spawn('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dns}`, '-strict=false'], { stdio: 'ignore', env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' } }),
  ];
  const agent = new Agent({ ca: ca.ca });
  const fetchOk = (url: string) =>
    new Promise<Buffer | undefined>((resolve) => {
      get(url, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks) : undefined));
      }).on('error', () => resolve(undefined));
    });
  const directory = `https://127.0.0.1:${api}/dir`;
  try {
    await until('pebble to answer', () => {
      const gone = procs.find((p) => p.exitCode !== null);
      if (gone) throw new Error(`${gone.spawnfile} exited with ${gone.exitCode}`);
      return fetchOk(directory);
    }, 30_000);
  } catch (e) {
    for (const p of procs) p.kill();
    throw e;
  }
  return {
    directory,
    root: async () => (await fetchOk(`https://127.0.0.1:${management}/roots/0`))!,
    close: async () => {
      agent.destroy();
      await Promise.all(procs.map((p) => new Promise<void>((resolve) => (p.exitCode !== null ? resolve() : (p.once('exit', () => resolve()), p.kill())))));
    },
  };
}
