// `switchyard completion bash|zsh`: a completion script made from the verbs' own help (so it offers
// exactly the flags `VERB --help` lists), with the fixed values some flags take. zsh runs the same
// function through its bash compatibility (bashcompinit).
import { SwitchyardError } from '../core/errors.js';
import { HELP } from './help.js';

/** Flags whose values are a fixed list. */
const VALUES: Record<string, string[]> = {
  '--router': ['embedded', 'haproxy'],
  '--runtime': ['docker', 'swarm'],
  '--format': ['text', 'json', 'github'],
  '--to': ['blue', 'green'],
  '--color': ['blue', 'green'],
  '--log-level': ['debug', 'info', 'warn', 'error'],
};

/** Each verb's flags, read from its help: every `  --flag` at the start of a line, and -h/--help. */
export function verbFlags(): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(HELP).map(([verb, text]) => [verb, [...new Set([...[...text.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!), '--help', '-h'])]]),
  );
}

export function completionScript(shell: 'bash' | 'zsh'): string {
  const flags = verbFlags();
  const verbs = [...Object.keys(flags), '--help', '--version'];
  const cases = Object.entries(flags).map(([verb, f]) => `    ${verb}) words=(${[...(verb === 'completion' ? ['bash', 'zsh'] : []), ...f].join(' ')}) ;;`);
  const values = Object.entries(VALUES).map(([flag, v]) => `    ${flag}) words=(${v.join(' ')}) ;;`);
  // The words are arrays and the prefix is matched here, not by compgen: the same in bash and in zsh.
  const body = `_switchyard() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" w
  local -a words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words=(${verbs.join(' ')})
  else
    case "$prev" in
${values.join('\n')}
    *)
      case "\${COMP_WORDS[1]}" in
${cases.map((c) => `  ${c}`).join('\n')}
      esac ;;
    esac
  fi
  COMPREPLY=()
  for w in "\${words[@]}"; do
    case "$w" in "$cur"*) COMPREPLY+=("$w") ;; esac
  done
}
complete -o default -F _switchyard switchyard
`;
  const head = shell === 'zsh' ? '#compdef switchyard\n# switchyard completion (zsh): source <(switchyard completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n' : '# switchyard completion (bash): source <(switchyard completion bash)\n';
  return head + body;
}

export async function completion(args: string[]): Promise<number> {
  const shell = args[0];
  if (shell !== 'bash' && shell !== 'zsh') throw new SwitchyardError('UsageError', shell ? `no completion for shell "${shell}"` : 'which shell?', { hint: 'switchyard completion bash, or switchyard completion zsh' });
  process.stdout.write(completionScript(shell));
  return 0;
}
