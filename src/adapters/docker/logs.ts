// A target's output (stdout and stderr) for `switchyard logs`: Docker's multiplexed frames taken apart,
// each line prefixed with its container. A container's (the docker runtime) or a service's (swarm: the
// manager gathers its tasks' output from their nodes) read the same way.
import type Docker from 'dockerode';
import { engineRead } from './engine-errors.js';

export interface LogOptions {
  follow: boolean;
  tail: number;
  prefix: string;
  signal?: AbortSignal;
}

/** What has logs: a container, or a service. */
type LogSource = Pick<Docker.Container, 'logs'> | Pick<Docker.Service, 'logs'>;

/** Writes the output of `container` (or service) to `out` until it ends (or, with follow, until it stops or `signal` aborts). */
export async function targetLogs(docker: Docker, container: LogSource, out: NodeJS.WritableStream, opts: LogOptions, readTimeoutMs: number): Promise<void> {
  const lines = new LinePrefixer(opts.prefix, out);
  const read = <T>(what: string, fn: () => Promise<T>) => engineRead(what, fn, readTimeoutMs);
  const logs = container.logs as (o: object) => Promise<Buffer | NodeJS.ReadableStream>;
  // A container's logs come back whole unless followed; a service's always as a stream.
  const got = await read(opts.follow ? 'follow logs' : 'read logs', () => logs.call(container, { stdout: true, stderr: true, follow: opts.follow, tail: opts.tail }));
  if (Buffer.isBuffer(got)) {
    lines.write(demux(got));
    lines.end();
    return;
  }
  const stream = got;
  opts.signal?.addEventListener('abort', () => (stream as unknown as { destroy(): void }).destroy(), { once: true });
  await new Promise<void>((resolve) => {
    const sink = { write: (chunk: Buffer) => (lines.write(chunk), true) } as unknown as NodeJS.WritableStream;
    docker.modem.demuxStream(stream, sink, sink);
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', resolve);
  });
  lines.end();
}

/** Docker's multiplexed log frames (8-byte header: stream, 0, 0, 0, size) to their payload. */
function demux(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts);
}

/** Writes whole lines, each with a prefix; a last line without a newline is written at the end. */
class LinePrefixer {
  private rest = '';
  constructor(private readonly prefix: string, private readonly out: NodeJS.WritableStream) {}
  write(chunk: Buffer): void {
    const text = this.rest + chunk.toString('utf8');
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.out.write(`${this.prefix}${line}\n`);
  }
  end(): void {
    if (this.rest) this.out.write(`${this.prefix}${this.rest}\n`);
    this.rest = '';
  }
}
