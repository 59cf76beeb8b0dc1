// Shared by the benchmarks: processes they start (always stopped on exit), wrk runs, free ports.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
const stopAll = () => {
  for (const c of children) c.kill('SIGKILL');
};
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

export function need(command: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    console.error(`bench: ${command} is missing; install it: apt-get install -y ${pkg}`);
    process.exit(2);
  }
}

export function start(command: string, args: string[], opts: { detached?: boolean } = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], detached: opts.detached ?? false });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function waitForPort(port: number, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}`);
}

/** A backend as fast as this machine allows: HAProxy answering every request itself. */
export function haproxyBackend(dir: string, port: number): ChildProcess {
  const cfg = join(dir, 'backend.cfg');
  writeFileSync(cfg, `global\n  nbthread 1\n  maxconn 4096\ndefaults\n  mode http\n  timeout client 30s\n  timeout server 30s\n  timeout connect 5s\nfrontend backend\n  bind 127.0.0.1:${port}\n  http-request return status 200 content-type text/plain string "ok"\n`);
  return start('haproxy', ['-db', '-f', cfg]);
}

/** HAProxy as a plain reverse proxy to `backendPort`. */
export function haproxyProxy(dir: string, port: number, backendPort: number, threads: number): ChildProcess {
  const cfg = join(dir, `proxy-${port}.cfg`);
  writeFileSync(
    cfg,
    `global\n  nbthread ${threads}\n  maxconn 4096\ndefaults\n  mode http\n  option http-keep-alive\n  http-reuse always\n  timeout client 30s\n  timeout server 30s\n  timeout connect 5s\n` +
      `frontend fe\n  bind 127.0.0.1:${port}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:${backendPort}\n`,
  );
  return start('haproxy', ['-db', '-f', cfg]);
}

export interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
}

/** wrk with --latency; its own summary parsed. Loopback only. */
export function wrk(port: number, opts: { connections: number; seconds: number; threads?: number }): WrkResult {
  const out = spawnSync('wrk', ['-t', String(opts.threads ?? 2), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency', `http://127.0.0.1:${port}/`], { encoding: 'utf8' }).stdout;
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
