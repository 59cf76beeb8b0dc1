// The `switchyard` command line. Verbs only parse their flags and delegate to the modules.
// Each verb's module is loaded when that verb runs: the data plane process (`proxy`) then carries no
// Docker, git or schema code, and the agent (`run`) none of the proxy's, which keeps both smaller.
import { errorMessage, SwitchyardError } from './core/errors.js';
import { version } from './core/version.js';
import { asksForHelp, HELP } from './commands/help.js';
import { closest } from './core/did-you-mean.js';
import { completion } from './commands/completion.js';

const USAGE = `switchyard: blue/green GitOps agent for Docker hosts

Usage:
  switchyard run --repo <url|path> [--config FILE] [--ref main] [--path DIR] [--interval 5s]
                 [--instance NAME] [--listen-host 127.0.0.1] [--api 127.0.0.1:7070]
                 [--state-dir DIR] [--http ADDR:PORT] [--https ADDR:PORT]
                 [--router embedded|haproxy] [--log-level info]
      Poll the repository, bring up and health-check each app's colors, and route
      every app's listen port, and its host names on the shared --http/--https ports,
      to its active color.
  switchyard validate [DIR] [--format text|json|github] [--config FILE]
      Check DIR/apps/*.yaml (default DIR: .) against the schema and the host-safety
      policy, and print every error with file:line:col. Exit 1 when invalid.
  switchyard plan --repo <url|path> [--ref REF] [--format text|json] [run's flags]
      Show what applying REF would do to this host, per app, and change nothing.
      Exit 0: no changes; 2: changes; 1: error.
  switchyard promote APP [--to blue|green] [--repo DIR] [--path DIR] [--branch NAME] [--no-commit]
      In a checkout of the desired-state repository: set APP's active color (only that
      value changes in the file) and commit it on a new branch, ready for a pull request.
  switchyard status [--json] [--watch]
      What the running agent serves: per app the active color, conditions, commits, traffic.
  switchyard history [APP] [--json]
      The journal: every attempt, who committed it, when it went live and how long it took.
  switchyard sync | suspend APP | resume APP
      Fetch now and retry failed commits; leave an app alone; take it back.
  switchyard wait --commit SHA [--timeout 5m]
      Block until that commit is live (exit 0) or failed (exit 1, with the reason); 3 at timeout.
  (These talk to the agent's API: --api HOST:PORT, --token, or the token in --state-dir.)
  switchyard logs APP [--color blue|green] [--follow] [--tail 100] [--instance NAME]
      The output of the app's containers on this host, each line prefixed with its container.
  switchyard proxy [--state-dir DIR] [--instance NAME] [--stop]
      The data plane as its own process (\`run\` starts it when none answers). It keeps
      serving while the agent restarts. --stop drains it and makes it exit.
  switchyard completion bash|zsh
      A completion script: source <(switchyard completion bash).
  switchyard --version | --help       switchyard VERB --help: a verb's flags, defaults and an example
`;

type Verb = (args: string[]) => Promise<number>;

const operate = () => import('./commands/operate.js');
export const VERBS: Record<string, () => Promise<Verb>> = {
  run: async () => (await import('./commands/run.js')).runAgent,
  validate: async () => (await import('./commands/validate.js')).validateDir,
  status: async () => (await import('./commands/status.js')).showStatus,
  plan: async () => (await import('./commands/plan.js')).showPlan,
  promote: async () => (await import('./commands/promote.js')).promote,
  history: async () => (await operate()).history,
  sync: async () => (await operate()).sync,
  suspend: async () => (await operate()).suspend,
  resume: async () => (await operate()).resume,
  wait: async () => (await operate()).wait,
  logs: async () => (await import('./commands/logs.js')).logs,
  proxy: async () => (await import('./commands/proxy.js')).runProxy,
  completion: async () => completion,
};

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(USAGE);
    return verb ? 0 : 2;
  }
  if (verb === '--version' || verb === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const load = VERBS[verb];
  if (!load) {
    const near = closest(verb, Object.keys(VERBS));
    process.stderr.write(`switchyard: unknown command "${verb}" (hint: ${near ? `did you mean "${near}"? ` : ''}one of ${Object.keys(VERBS).join(', ')}; see switchyard --help)\n`);
    return 2;
  }
  if (asksForHelp(rest)) {
    process.stdout.write(HELP[verb]!);
    return 0;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    process.stderr.write(`switchyard ${verb}: ${errorMessage(e)}\n`);
    return e instanceof SwitchyardError && e.code === 'UsageError' ? 2 : 1;
  }
}
