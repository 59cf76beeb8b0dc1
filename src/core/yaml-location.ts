// Maps a field path inside a parsed YAML document back to file:line:col, so every error can say where.
import { isMap, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';
import type { Location } from './errors.js';

export class YamlLocator {
  constructor(private readonly file: string, private readonly doc: Document, private readonly lines: LineCounter) {}

  /** The location of the value at `path`, or of the nearest ancestor that exists. */
  value(path: readonly (string | number)[]): Location {
    let node: unknown = this.doc.contents;
    let found: unknown = node;
    for (const key of path) {
      node = child(node, key);
      if (node === undefined) break;
      found = node;
    }
    return this.at(found, path);
  }

  /** The location of the key `key` inside the map at `path` (for unknown fields). */
  key(path: readonly (string | number)[], key: string): Location {
    const map = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair) return this.at(pair.key, [...path, key]);
    }
    return this.value([...path, key]);
  }

  offset(offset: number, field?: string): Location {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col, ...(field ? { field } : {}) };
  }

  private at(node: unknown, path: readonly (string | number)[]): Location {
    const range = (node as Node | undefined)?.range;
    const field = fieldName(path);
    if (!range) return { file: this.file, line: 1, col: 1, ...(field ? { field } : {}) };
    return this.offset(range[0], field);
  }
}

function child(node: unknown, key: string | number): unknown {
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
    return pair?.value ?? undefined;
  }
  if (isSeq(node) && typeof key === 'number') return node.items[key];
  return undefined;
}

/** `colors.green.env.PORT`, `rules[0].header` */
export function fieldName(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
