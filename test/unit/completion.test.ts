// `switchyard completion`: the script made from the verbs' help, run in real bash and zsh: verbs,
// a verb's flags, a flag's fixed values.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { completionScript, verbFlags } from '../../src/commands/completion.js';
import { VERBS } from '../../src/cli.js';

/** What the completion function offers for the words typed so far (the last one being completed). */
function offered(shell: 'bash' | 'zsh', words: string[]): string[] {
  const script = completionScript(shell);
  const array = words.map((w) => `'${w}'`).join(' ');
  const run =
    shell === 'bash'
      ? `${script}\nCOMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _switchyard; printf '%s\\n' "\${COMPREPLY[@]}"`
      : `autoload -U compinit && compinit -u -D\n${script}\nsetopt ksharrays; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _switchyard; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync(shell, shell === 'bash' ? ['--norc', '-c', run] : ['-f', '-c', run], { encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent' } });
  if (r.status !== 0) throw new Error(`${shell}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

describe('switchyard completion', () => {
  it('offers the flags each verb\'s help lists', () => {
    const flags = verbFlags();
    expect(Object.keys(flags).sort()).toEqual(Object.keys(VERBS).sort());
    expect(flags.plan).toEqual(expect.arrayContaining(['--ref', '--format', '--repo', '--semver', '--help', '-h']));
    expect(flags.status).toEqual(expect.arrayContaining(['--watch', '--interval', '--json']));
  });

  for (const shell of ['bash', 'zsh'] as const) {
    it(`completes verbs, flags and values in real ${shell}`, () => {
      expect(offered(shell, ['switchyard', 'pl'])).toEqual(['plan']);
      expect(offered(shell, ['switchyard', 's']).sort()).toEqual(['status', 'suspend', 'sync']);
      expect(offered(shell, ['switchyard', 'plan', '--re'])).toEqual(['--ref', '--repo']);
      expect(offered(shell, ['switchyard', 'run', '--router', ''])).toEqual(['embedded', 'haproxy']);
      expect(offered(shell, ['switchyard', 'completion', ''])).toEqual(expect.arrayContaining(['bash', 'zsh']));
    });
  }

  it('refuses a shell it has no script for', async () => {
    const { completion } = await import('../../src/commands/completion.js');
    await expect(completion(['fish'])).rejects.toThrow(/no completion for shell "fish"/);
  });
});
