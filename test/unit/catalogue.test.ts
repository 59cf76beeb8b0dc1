// One catalogue of codes (fastify's lib/errors.js with its test is the model): every code the source
// uses is catalogued, every catalogued code is in the README's table with the same retry class, and the
// table names nothing else.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, retryOf, SwitchyardError } from '../../src/core/errors.js';
import { catalogueProblems, codesUsed, documentedCodes, sourceTexts } from '../support/catalogue-check.js';

describe('the catalogue of codes', () => {
  const sources = sourceTexts('src');
  const readme = readFileSync('README.md', 'utf8');

  it('has every code the source uses, and the README documents each one with its retry class', () => {
    expect(catalogueProblems(CATALOGUE, sources, readme)).toEqual([]);
    // The scan finds the codes it should (a scan that finds nothing would pass the check above).
    expect([...codesUsed(sources).keys()]).toEqual(expect.arrayContaining(['FetchFailed', 'HealthCheckFailed', 'RouteFailed', 'PortInUse', 'Drift', 'Unauthorized', 'CrashLoopBackOff']));
    expect(documentedCodes(readme).size).toBe(Object.keys(CATALOGUE).length);
  });

  it('fails on a code thrown but not catalogued, one catalogued but not documented, and a wrong retry class', () => {
    const thrown = { 'src/x.ts': "throw new SwitchyardError('DiskFull', 'no space left');" };
    expect(catalogueProblems(CATALOGUE, thrown, readme)).toEqual(['src/x.ts uses code DiskFull, which the catalogue does not have']);
    const missing = readme.replace(/^\| `Superseded` .*\n/m, '');
    expect(catalogueProblems(CATALOGUE, {}, missing)).toEqual(['README: code Superseded is not in the table of codes']);
    const wrong = readme.replace('| `RouteFailed` | transient |', '| `RouteFailed` | needs-human |');
    expect(catalogueProblems(CATALOGUE, {}, wrong)).toEqual(['README: code RouteFailed says needs-human, the catalogue transient']);
  });

  it('gives every code a retry class, a summary and a hint; an error takes its code\'s class unless it knows better', () => {
    for (const [code, info] of Object.entries(CATALOGUE)) {
      expect(['transient', 'wait', 'needs-human', 'none'], code).toContain(info.retry);
      expect(info.summary.length, code).toBeGreaterThan(10);
      expect(info.hint.length, code).toBeGreaterThan(3);
    }
    expect(new SwitchyardError('HealthCheckFailed', 'x').retry).toBe('needs-human');
    expect(new SwitchyardError('DockerUnavailable', 'x').retry).toBe('transient');
    expect(new SwitchyardError('CreateFailed', 'vanished', { retry: 'transient' }).retry).toBe('transient');
    expect(retryOf('CrashLoopBackOff')).toBe('wait');
  });
});
