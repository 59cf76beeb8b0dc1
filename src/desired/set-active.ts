// Changes `active` in an app file's text and nothing else: the yaml Document API finds the value's
// exact source range, and only those bytes are replaced (same quoting), so comments, spacing and key
// order stay byte-for-byte as the author wrote them.
import { isScalar, LineCounter, parseDocument } from 'yaml';
import type { Color } from '../core/app.js';

export type SetActiveResult = { ok: true; text: string; from: Color; line: number } | { ok: false; reason: string };

export function setActive(text: string, to: Color): SetActiveResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true });
  if (doc.errors.length) return { ok: false, reason: `the file does not parse: ${doc.errors[0]!.message.split('\n')[0]}` };
  const node = doc.get('active', true);
  if (!isScalar(node) || !node.range) return { ok: false, reason: 'the file has no `active:` value' };
  const from = node.value;
  if (from !== 'blue' && from !== 'green') return { ok: false, reason: `active is ${JSON.stringify(from)}, not blue or green` };
  const [start, end] = node.range;
  const old = text.slice(start, end);
  const quote = old[0] === '"' || old[0] === "'" ? old[0] : '';
  return { ok: true, text: `${text.slice(0, start)}${quote}${to}${quote}${text.slice(end)}`, from, line: lines.linePos(start).line };
}
