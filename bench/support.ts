// Shared by the benchmarks: processes they start (always stopped on exit), wrk runs, free ports, and
// the end of a run of the real agent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { systemClock } from '../src/core/clock.js';
import { HaproxyRouter, haproxyPaths } from '../src/adapters/haproxy/haproxy-router.js';
import { proxyFiles } from '../src/adapters/dataplane/proxy-files.js';
import { RemoteRouter } from '../src/adapters/dataplane/remote-router.js';
import type { Runtime } from '../src/core/runtime.js';
import type { AgentProcess } from '../test/support/agent-process.js';
import type { GitServer, TestRepo } from '../test/support/git-server.js';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** Each child and how it is stopped: nginx's master must be asked (SIGTERM) or its worker outlives it. */
const children = new Map<ChildProcess, NodeJS.Signals>();
const stopAll = () => {
  for (const [c, signal] of children) c.kill(signal);
};
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

export function need(command: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    console.error(`bench: ${command} is missing; install it: apt-get install -y ${pkg}`);
    process.exit(2);
  }
}

/** `cpu`: pinned to that core (taskset), with every thread and child it starts. */
export function start(command: string, args: string[], opts: { detached?: boolean; stopSignal?: NodeJS.Signals; cpu?: number; env?: Record<string, string> } = {}): ChildProcess {
  const [cmd, argv] = opts.cpu === undefined ? [command, args] : ['taskset', ['-c', String(opts.cpu), command, ...args]];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'], detached: opts.detached ?? false, env: { ...process.env, ...opts.env } });
  children.set(child, opts.stopSignal ?? 'SIGKILL');
  child.on('exit', () => children.delete(child));
  return child;
}

/** Polls `probe` until it gives a value (errors count as not yet), or gives up after `limitMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 120_000, everyMs = 2): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`bench: gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Resolves once something accepts connections on the port (plain or TLS alike). */
export async function waitForPort(port: number, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}`);
}

/** A backend as fast as this machine allows: HAProxy answering every request itself. */
export function haproxyBackend(dir: string, port: number, cpu?: number): ChildProcess {
  const cfg = join(dir, 'backend.cfg');
  writeFileSync(cfg, `global\n  nbthread 1\n  maxconn 4096\ndefaults\n  mode http\n  timeout client 30s\n  timeout server 30s\n  timeout connect 5s\nfrontend backend\n  bind 127.0.0.1:${port}\n  http-request return status 200 content-type text/plain string "ok"\n`);
  return start('haproxy', ['-db', '-f', cfg], { cpu });
}

/** HAProxy as a plain reverse proxy to `backendPort`; over TLS with `bundle` (chain and key in one file). */
export function haproxyProxy(dir: string, port: number, backendPort: number, threads: number, bundle?: string, cpu?: number): ChildProcess {
  const cfg = join(dir, `proxy-${port}.cfg`);
  writeFileSync(
    cfg,
    `global\n  nbthread ${threads}\n  maxconn 4096\ndefaults\n  mode http\n  option http-keep-alive\n  http-reuse always\n  timeout client 30s\n  timeout server 30s\n  timeout connect 5s\n` +
      `frontend fe\n  bind 127.0.0.1:${port}${bundle ? ` ssl crt ${bundle} alpn http/1.1` : ''}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:${backendPort}\n`,
  );
  return start('haproxy', ['-db', '-f', cfg], { cpu });
}

/** Caddy (GOMAXPROCS=1) as a plain reverse proxy to `backendPort`: no admin endpoint, no automatic HTTPS, no logs. */
export function caddyProxy(dir: string, port: number, backendPort: number, cpu?: number): ChildProcess {
  const cfg = join(dir, `Caddyfile-${port}`);
  writeFileSync(cfg, `{\n  admin off\n  auto_https off\n}\nhttp://127.0.0.1:${port} {\n  reverse_proxy 127.0.0.1:${backendPort}\n}\n`);
  return start('caddy', ['run', '--config', cfg, '--adapter', 'caddyfile'], { cpu, env: { GOMAXPROCS: '1', XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
}

/** nginx with one worker as a reverse proxy to `backendPort` (kept-alive upstream connections), over TLS with `tls`, its files in `dir`. */
export function nginxProxy(dir: string, port: number, backendPort: number, tls?: { certFile: string; keyFile: string }, cpu?: number): ChildProcess {
  const cfg = join(dir, `nginx-${port}.conf`);
  writeFileSync(
    cfg,
    `worker_processes 1;\npid ${join(dir, `nginx-${port}.pid`)};\nerror_log stderr error;\nevents { worker_connections 4096; }\n` +
      `http {\n  access_log off;\n  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};\n` +
      `  upstream be { server 127.0.0.1:${backendPort}; keepalive 64; }\n` +
      `  server {\n    listen 127.0.0.1:${port}${tls ? ` ssl;\n    ssl_certificate ${tls.certFile};\n    ssl_certificate_key ${tls.keyFile};` : ';'}\n` +
      `    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; }\n  }\n}\n`,
  );
  return start('nginx', ['-c', cfg, '-p', dir, '-g', 'daemon off;'], { stopSignal: 'SIGTERM', cpu });
}

export interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
}

/**
 * wrk with --latency; its own summary parsed. Loopback only: `http://127.0.0.1:PORT/`, or over TLS
 * `https://localhost:PORT/` (wrk sends the URL's host as SNI and does not check the certificate), with
 * an optional Host header. `cpu`: wrk pinned to that core. `script`: a wrk Lua script (a paced load).
 */
export function wrk(port: number, opts: { connections: number; seconds: number; threads?: number; tls?: boolean; host?: string; cpu?: number; script?: string }): WrkResult {
  const url = opts.tls ? `https://localhost:${port}/` : `http://127.0.0.1:${port}/`;
  const host = opts.host ? ['-H', `Host: ${opts.host}`] : [];
  const script = opts.script ? ['-s', opts.script] : [];
  const args = ['-t', String(opts.threads ?? 2), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency', ...host, ...script, url];
  const out = spawnSync(opts.cpu === undefined ? 'wrk' : 'taskset', opts.cpu === undefined ? args : ['-c', String(opts.cpu), 'wrk', ...args], { encoding: 'utf8' }).stdout;
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 'NaN');
  const ms = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: num(/(\d+) requests in/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99Ms: ms(/99%\s+([\d.]+)(us|ms|s)/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: errs ? errs.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
  };
}

/** Asks a detached proxy process to stop, and makes sure it is gone (SIGKILL after 10 s). */
export async function stopProcess(pid: number, ask: () => Promise<void>): Promise<void> {
  await ask().catch(() => undefined);
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 10_000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive()) {
    console.error(`bench: proxy ${pid} did not stop when asked; killing it`);
    process.kill(pid, 'SIGKILL');
  }
}

/** Stops what a bench run of the real agent started: the agent, its data plane, its containers, the git server, the repository and the state dir. */
export async function endRun(run: { agent: AgentProcess; driver: 'embedded' | 'haproxy'; stateDir: string; instance: string; runtime: Runtime; server: GitServer; repo: TestRepo }): Promise<void> {
  await run.agent.stop();
  if (run.driver === 'haproxy') await new HaproxyRouter(haproxyPaths(run.stateDir, run.instance), systemClock).shutdown().catch(() => undefined);
  else await new RemoteRouter(proxyFiles(run.stateDir, run.instance).socket).shutdown().catch(() => undefined);
  for (const t of await run.runtime.list()) await run.runtime.remove(t.id);
  await run.server.close();
  run.repo.remove();
  rmSync(run.stateDir, { recursive: true, force: true });
}
