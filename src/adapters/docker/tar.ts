// A POSIX ustar archive of files in memory: the build context the engine expects. Regular files only (a
// context never holds links: they are refused when the commit is loaded); folders are implied by paths.
const BLOCK = 512;

export interface TarFile {
  path: string;
  content: Uint8Array;
  executable?: boolean;
}

export function tarball(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    parts.push(header(f), Buffer.from(f.content), Buffer.alloc((BLOCK - (f.content.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function header(f: TarFile): Buffer {
  const h = Buffer.alloc(BLOCK);
  const [prefix, name] = splitPath(f.path);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, f.executable ? 0o755 : 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, f.content.length);
  octal(h, 136, 12, 0);
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  // The checksum is the sum of the header's bytes with its own field read as spaces.
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

function octal(h: Buffer, at: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, at, width, 'ascii');
}

/** ustar keeps 100 bytes of name and 155 of prefix, split at a slash. */
function splitPath(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new Error(`path too long for a build context: ${path}`);
}
