// Checks the catalogue of codes (src/core/errors.ts) against the code that uses it and the README that
// documents it. Pure functions of texts, so that a test can also show each check failing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeInfo } from '../../src/core/errors.js';

/** Codes named in source texts: thrown, returned as a reason, logged as a reason, or sent as a code. */
export function codesUsed(sources: Record<string, string>): Map<string, string> {
  const used = new Map<string, string>();
  const patterns = [/SwitchyardError\(\s*'([A-Za-z]+)'/g, /\breason: '([A-Za-z]+)'/g, /\bcode: '([A-Za-z]+)'/g, /\bfailed\(\s*'([A-Za-z]+)'/g, /\bfailure\([^,]+,\s*'([A-Za-z]+)'\)/g, /\bsendError\(\w+,\s*'([A-Za-z]+)'/g];
  for (const [file, text] of Object.entries(sources)) for (const re of patterns) for (const m of text.matchAll(re)) if (!used.has(m[1]!)) used.set(m[1]!, file);
  return used;
}

/** The README's table of codes: code -> retry class. */
export function documentedCodes(readme: string): Map<string, string> {
  const out = new Map<string, string>();
  const start = readme.indexOf('## Codes');
  if (start < 0) return out;
  const end = readme.indexOf('\n## ', start + 1);
  for (const m of readme.slice(start, end < 0 ? undefined : end).matchAll(/^\| `([A-Za-z]+)` \| ([a-z-]+) \|/gm)) out.set(m[1]!, m[2]!);
  return out;
}

export function catalogueProblems(catalogue: Readonly<Record<string, CodeInfo>>, sources: Record<string, string>, readme: string): string[] {
  const problems: string[] = [];
  for (const [code, file] of codesUsed(sources)) if (!(code in catalogue)) problems.push(`${file} uses code ${code}, which the catalogue does not have`);
  const documented = documentedCodes(readme);
  for (const [code, info] of Object.entries(catalogue)) {
    const retry = documented.get(code);
    if (retry === undefined) problems.push(`README: code ${code} is not in the table of codes`);
    else if (retry !== info.retry) problems.push(`README: code ${code} says ${retry}, the catalogue ${info.retry}`);
  }
  for (const code of documented.keys()) if (!(code in catalogue)) problems.push(`README: code ${code} is not in the catalogue`);
  return problems;
}

export function sourceTexts(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) out[p] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}
