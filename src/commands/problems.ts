// Printing located problems for people (text), programs (json) and GitHub workflow annotations.
import type { SwitchyardError } from '../core/errors.js';

export type Format = 'text' | 'json' | 'github';
export const FORMATS: readonly Format[] = ['text', 'json', 'github'];

export function problemRecord(e: SwitchyardError, prefix = '') {
  const loc = e.location ?? {};
  return {
    code: e.code,
    message: e.message,
    ...(loc.file ? { file: prefix + loc.file } : {}),
    ...(loc.line !== undefined ? { line: loc.line } : {}),
    ...(loc.col !== undefined ? { col: loc.col } : {}),
    ...(loc.field ? { field: loc.field } : {}),
    ...(e.hint ? { hint: e.hint } : {}),
  };
}

/** `::error file=…,line=…,col=…,title=…::message` with GitHub's escaping. */
export function githubAnnotation(e: SwitchyardError, prefix = ''): string {
  const r = problemRecord(e, prefix);
  const prop = (v: string) => escapeData(v).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const props = [r.file && `file=${prop(r.file)}`, r.line !== undefined && `line=${r.line}`, r.col !== undefined && `col=${r.col}`, `title=${prop(r.code)}`].filter(Boolean).join(',');
  const text = `${r.field ? `${r.field}: ` : ''}${r.message}${r.hint ? ` (hint: ${r.hint})` : ''}`;
  return `::error ${props}::${escapeData(text)}`;
}

function escapeData(v: string): string {
  return v.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
