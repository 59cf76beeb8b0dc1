// `switchyard completion`: the script made from the verbs' help, run in real bash and zsh: verbs,
// a verb's flags, a flag's fixed values.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { completionScript, verbFlags } from '../../src/commands/completion.js';
import { VERBS } from '../../src/cli.js';

/** What the completion function offers for each line of words typed so far (the last word being completed), in one shell. */
function offered(shell: 'bash' | 'zsh', lines: string[][]): string[][] {
  const queries = lines.map((words) => `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _switchyard; printf '%s\\n' "\${COMPREPLY[@]}" '=='`);
  const run = shell === 'bash' ? `${completionScript(shell)}\n${queries.join('\n')}` : `autoload -U compinit && compinit -u -D\n${completionScript(shell)}\nsetopt ksharrays\n${queries.join('\n')}`;
  const r = spawnSync(shell, shell === 'bash' ? ['--norc', '-c', run] : ['-f', '-c', run], { encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent' } });
  if (r.status !== 0) throw new Error(`${shell}: ${r.stderr}`);
  return r.stdout.split('==\n').slice(0, lines.length).map((block) => block.split('\n').filter(Boolean));
}

describe('switchyard completion', () => {
  it('offers the flags each verb\'s help lists', () => {
    const flags = verbFlags();
    expect(Object.keys(flags).sort()).toEqual(Object.keys(VERBS).sort());
    expect(flags.plan).toEqual(expect.arrayContaining(['--ref', '--format', '--repo', '--semver', '--help', '-h']));
    expect(flags.status).toEqual(expect.arrayContaining(['--watch', '--interval', '--json']));
  });

  for (const shell of ['bash', 'zsh'] as const) {
    it(`completes verbs, flags and values in real ${shell}`, { timeout: 30_000 }, () => {
      const [verb, verbs, flags, values, shells] = offered(shell, [
        ['switchyard', 'pl'],
        ['switchyard', 's'],
        ['switchyard', 'plan', '--re'],
        ['switchyard', 'run', '--router', ''],
        ['switchyard', 'completion', ''],
      ]);
      expect(verb).toEqual(['plan']);
      expect(verbs!.sort()).toEqual(['status', 'suspend', 'sync']);
      expect(flags).toEqual(['--ref', '--repo']);
      expect(values).toEqual(['embedded', 'haproxy']);
      expect(shells).toEqual(expect.arrayContaining(['bash', 'zsh']));
    });
  }

  it('refuses a shell it has no script for', async () => {
    const { completion } = await import('../../src/commands/completion.js');
    await expect(completion(['fish'])).rejects.toThrow(/no completion for shell "fish"/);
  });
});
