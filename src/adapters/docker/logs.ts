// A target's output (stdout and stderr) for `switchyard logs`: Docker's multiplexed frames taken apart,
// each line prefixed with its container.
import type Docker from 'dockerode';
import { engineRead } from './engine-errors.js';

export interface LogOptions {
  follow: boolean;
  tail: number;
  prefix: string;
  signal?: AbortSignal;
}

/** Writes the container's output to `out` until it ends (or, with follow, until it stops or `signal` aborts). */
export async function containerLogs(docker: Docker, id: string, out: NodeJS.WritableStream, opts: LogOptions, readTimeoutMs: number): Promise<void> {
  const container = docker.getContainer(id);
  const lines = new LinePrefixer(opts.prefix, out);
  const read = <T>(what: string, fn: () => Promise<T>) => engineRead(what, fn, readTimeoutMs);
  if (!opts.follow) {
    const buf = (await read('read logs', () => container.logs({ stdout: true, stderr: true, follow: false, tail: opts.tail }))) as unknown as Buffer;
    lines.write(demux(buf));
    lines.end();
    return;
  }
  const stream = await read('follow logs', () => container.logs({ stdout: true, stderr: true, follow: true, tail: opts.tail }));
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
