// The validators compiled ahead of time from schemas/ (scripts/compile-schemas.ts) must be what the
// schemas compile to now: a schema changed without `npm run schemas` fails here, not in production.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generated, VALIDATORS } from '../../scripts/compile-schemas.js';

describe('validators compiled from schemas/', () => {
  it.each(VALIDATORS.map((v) => [v.out, v.schema] as const))('%s matches %s (else: npm run schemas)', (out) => {
    expect(readFileSync(out, 'utf8') === generated()[out]).toBe(true);
  });
});
