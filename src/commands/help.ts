// `switchyard VERB --help` (or -h): each verb's flags with their defaults, and one example.
const API = `  --api HOST:PORT         the agent's API (default 127.0.0.1:7070)
  --token T               the API's bearer token (default: read from --state-dir)
  --state-dir DIR         the agent's state dir (default ~/.local/state/switchyard)
  --instance NAME         the agent instance (default default)
  --json                  machine-readable output`;

const REF = `  --ref REF               what to follow: a branch, refs/tags/NAME or a full commit id (default main)
`;

const agentFlags = (ref: string) => `  --repo URL|PATH         the desired-state repository (required)
  --config FILE           the agent's config file (YAML): policy, verify, repoAuth, entrypoints, acme...
${ref}  --branch NAME           the older name of --ref, for a branch
  --semver RANGE          follow the newest tag whose version is in RANGE, e.g. ">=1.2.0 <2"
  --path DIR              where apps/ lies in the repository (default: its root)
  --interval DURATION     how often to poll (default 5s)
  --schedule CRON         poll on a cron schedule instead
  --instance NAME         this agent's name on the host (default default)
  --listen-host ADDR      where each app's own listen port binds (default 127.0.0.1)
  --http ADDR:PORT        the shared plain-HTTP port for apps by host name (off unless set)
  --https ADDR:PORT       the shared TLS port for apps by host name (off unless set)
  --api HOST:PORT         the status API (default 127.0.0.1:7070)
  --state-dir DIR         state: git cache, journal, routes, certificates (default ~/.local/state/switchyard)
  --router NAME           the data plane: embedded or haproxy (default embedded)
  --runtime NAME          where targets run: docker (this host) or swarm (on a manager; default docker)
  --log-level LEVEL       debug, info, warn or error (default info)`;
const AGENT = agentFlags(REF);

export const HELP: Record<string, string> = {
  run: `Usage: switchyard run --repo URL|PATH [flags]

Poll the repository, bring up and health-check each app's colors, and route each app's own port
and host names to its active color. Runs until SIGTERM; the containers and the data plane keep
running after it stops.

Flags:
${AGENT}

Example:
  switchyard run --repo https://git.example.com/ops/desired.git --http 0.0.0.0:80 --https 0.0.0.0:443
`,
  validate: `Usage: switchyard validate [DIR] [flags]

Check DIR/apps/*.yaml (default DIR: .) against the schema and the host-safety policy; print every
error with file:line:col. Exit 0 valid, 1 invalid.

Flags:
  --format FORMAT         text, json or github (annotations) (default text)
  --config FILE           judge with this agent config's policy and paths (default: the default policy)

Example:
  switchyard validate . --format github
`,
  plan: `Usage: switchyard plan --repo URL|PATH [--ref REF] [flags]

Show what applying REF would do to this host, per app, and change nothing.
Exit 0 no changes, 2 changes, 1 error.

Flags:
  --ref REF               a branch, refs/tags/NAME, a full commit id or refs/pull/N/head, fetched
                          with the agent's credentials (default: what the agent follows)
  --format FORMAT         text or json (default text)
${agentFlags('')}

Example:
  switchyard plan --config /etc/switchyard/agent.yaml --ref refs/pull/42/head
`,
  promote: `Usage: switchyard promote APP [flags]

In a checkout of the desired-state repository: set APP's active color (only that value changes in
its file) and commit it on a new branch, ready for a pull request.

Flags:
  --to COLOR              blue or green (default: the other color)
  --repo DIR              the checkout (default .)
  --path DIR              where apps/ lies in it (default: its root)
  --branch NAME           the new branch (default promote/APP-COLOR-TIMESTAMP)
  --no-commit             edit the file only

Example:
  switchyard promote web --to green
`,
  completion: `Usage: switchyard completion bash|zsh

Print a completion script for the shell: verbs, each verb's flags, and the values of --router,
--format, --to and --color.

Flags:
  -h, --help              this help

Example:
  switchyard completion bash > /etc/bash_completion.d/switchyard   # zsh: source <(switchyard completion zsh)
`,
  status: `Usage: switchyard status [flags]

What the running agent serves: per app the active color, conditions, commits, certificate, traffic.

Flags:
  --watch                 redraw every --interval until Ctrl-C
  --interval DURATION     how often --watch redraws (default 2s)
${API}

Example:
  switchyard status --watch
`,
  history: `Usage: switchyard history [APP] [flags]

The journal: every attempt, who committed it, when it went live and how long it took. With --git, the
git log of the current folder (a clone of the desired repository) with each commit's outcome, commits
that a newer one superseded before the agent read them included.

Flags:
  --git                   the branch's git log with each commit's outcome
  --limit N               commits of the log to show with --git (default 20)
${API}

Example:
  switchyard history web
  cd desired && switchyard history --git --limit 10
`,
  sync: `Usage: switchyard sync [flags]

Fetch now, and try again the commits that failed.

Flags:
${API}

Example:
  switchyard sync
`,
  suspend: `Usage: switchyard suspend APP [flags]

Leave APP exactly as it is (across agent restarts) until resumed.

Flags:
${API}

Example:
  switchyard suspend web
`,
  resume: `Usage: switchyard resume APP [flags]

Take a suspended APP back: the agent reconciles it again.

Flags:
${API}

Example:
  switchyard resume web
`,
  wait: `Usage: switchyard wait --commit SHA [flags]

Block until that commit is live (exit 0) or failed (exit 1, with the reason); exit 3 at the timeout.

Flags:
  --commit SHA            the commit to wait for (required)
  --timeout DURATION      how long to wait (default 5m)
${API}

Example:
  switchyard wait --commit "$(git rev-parse HEAD)" --timeout 2m
`,
  logs: `Usage: switchyard logs APP [flags]

The output of the app's containers on this host, each line prefixed with its container.

Flags:
  --color COLOR           blue or green only (default: both)
  -f, --follow            keep printing new lines
  --tail N                lines per container to start with (default 100)
  --instance NAME         the agent instance (default default)
  --runtime NAME          docker, or swarm: services' logs from the manager (default docker; SWITCHYARD_RUNTIME)
  --state-dir DIR         the agent's state dir (default ~/.local/state/switchyard)

Example:
  switchyard logs web --color green --follow
`,
  proxy: `Usage: switchyard proxy [flags]

The embedded data plane as its own process (\`run\` starts it when none answers). It keeps serving
while the agent restarts.

Flags:
  --state-dir DIR         the agent's state dir (default ~/.local/state/switchyard)
  --instance NAME         the agent instance (default default)
  --stop                  ask the running one to drain and exit
  --log-level LEVEL       debug, info, warn or error (default info)
  --trusted-proxies LIST  peers whose X-Forwarded-* headers are believed (comma-separated)
  --workers N             processes that share the listen sockets, 1 to 64 (default 1; the agent
                          config's proxyWorkers); a change is in force in all before it returns

Example:
  switchyard proxy --stop --instance demo
`,
};

/** True when the verb's arguments ask for its help (before any other flag is judged). */
export function asksForHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
