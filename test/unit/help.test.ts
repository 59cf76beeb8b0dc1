// Every verb answers --help and -h with exit 0: its usage, its flags with their defaults, one example.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, VERBS } from '../../src/cli.js';
import { HELP } from '../../src/commands/help.js';

describe('switchyard VERB --help', () => {
  afterEach(() => vi.restoreAllMocks());
  const run = async (argv: string[]) => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const code = await main(argv);
    return { code, out };
  };

  it.each(Object.keys(VERBS))('%s answers --help and -h alike, with usage, flags and an example', async (verb) => {
    const long = await run([verb, '--help']);
    expect(long.code).toBe(0);
    expect(long.out).toMatch(new RegExp(`^Usage: switchyard ${verb}\\b`));
    expect(long.out).toMatch(/\nFlags:\n {2}-/);
    expect(long.out).toMatch(/\nExample:\n {2}switchyard /);
    expect(await run([verb, '-h'])).toEqual(long);
    // Help wins over anything else on the line, even a flag the verb would refuse.
    expect((await run([verb, '--no-such-flag', '--help'])).code).toBe(0);
  });

  it('has help for exactly the verbs there are, and lists the verbs on switchyard --help', async () => {
    expect(Object.keys(HELP).sort()).toEqual(Object.keys(VERBS).sort());
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    for (const verb of Object.keys(VERBS)) expect(out).toMatch(new RegExp(`\\n {2}switchyard (.* )?${verb}\\b`));
  });

  it('names run\'s shared ports with their defaults', async () => {
    const { out } = await run(['run', '-h']);
    expect(out).toMatch(/--http ADDR:PORT .*\(off unless set\)/);
    expect(out).toMatch(/--https ADDR:PORT .*\(off unless set\)/);
    expect(out).toMatch(/--interval DURATION .*\(default 5s\)/);
  });

  it('suggests the nearest verb or flag for one it does not know', async () => {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    expect(await main(['stauts'])).toBe(2);
    expect(err).toMatch(/unknown command "stauts" \(hint: did you mean "status"\?/);
    err = '';
    expect(await main(['validate', '--fromat', 'json'])).toBe(2);
    expect(err).toMatch(/Unknown option '--fromat'.*\(hint: did you mean --format\? see switchyard validate --help\)/);
  });
});
