// The one catalogue of codes: every error a user can meet and every condition reason, each with what
// the loop does next (its retry class), what it means, what to do, and the HTTP status where the API
// answers with it. The README's table of codes is checked against this one (test/unit/catalogue.test.ts),
// so a code cannot be thrown without being documented.
//
// Retry classes (Flux's vocabulary, in words a reconcile loop can act on):
// - transient: something passing (an engine restart, a port still held, a network blip): tried again on
//   the next pass, never held against the commit;
// - wait: nothing to do but wait for something the agent does not drive (Docker's restart backoff, a newer
//   commit already on its way): looked at again each pass, never held against the commit;
// - needs-human: the commit itself is wrong for this host: held against that commit (not tried again)
//   until a new commit arrives or an operator runs `switchyard sync`;
// - none: not a failure (a state, or a warning that changed nothing).

export type RetryClass = 'transient' | 'wait' | 'needs-human' | 'none';

export interface CodeInfo {
  retry: RetryClass;
  /** What it means: the message template, and its line in the README. */
  summary: string;
  /** What to do about it. */
  hint: string;
  /** The HTTP status the API or the data plane's control socket answers with it, where they do. */
  http?: number;
}

const ENTRIES = {
  // The source and the desired state.
  FetchFailed: { retry: 'transient', summary: 'the repository could not be fetched; the last good state stays in force', hint: 'check the URL, the credentials and that the git server answers' },
  ValidationFailed: { retry: 'needs-human', summary: 'a file of the commit is invalid; the commit is refused whole', hint: 'fix the file and line named in the error and commit again (`switchyard validate` shows the same)' },
  UnverifiedCommit: { retry: 'needs-human', summary: 'with `verify` set, the commit (or the tag followed to it) carries no good signature by a listed key; it is refused whole and the last verified commit stays in force', hint: 'sign it with a listed key, or list the key in verify; only a new commit is checked again' },
  PolicyDenied: { retry: 'needs-human', summary: "the commit asks for more than this host's policy allows; refused whole", hint: "change the app file, or widen the policy in the agent's own config" },
  SecretUnavailable: { retry: 'wait', summary: 'an env file cannot be read; that app is left as it is, the others go on', hint: "create the file on the agent's host, readable by the agent, under the policy's envFilePaths" },
  CertificateFailed: { retry: 'wait', summary: "an app's TLS certificate cannot be used (unreadable, a key that does not match, expired, a host name it does not cover); the app is left as it is, the data plane keeps the pair it has", hint: 'put a valid PEM chain and its key under the policy\'s certPaths; the agent reads them again on every pass' },
  // Bringing up targets.
  ImagePullFailed: { retry: 'needs-human', summary: 'an image could not be pulled (or a pull made no progress for 5 minutes)', hint: 'check the image name and tag, that the registry is reachable, and its credentials (registries in the agent config)' },
  BuildFailed: { retry: 'needs-human', summary: 'a `build:` context did not build; the engine\'s error is in the message', hint: 'fix the Dockerfile or the context and commit again' },
  CreateFailed: { retry: 'needs-human', summary: 'the engine refused to create or start a container for this spec', hint: 'the message has the engine\'s words (a bad mount, a missing entrypoint): fix the app file' },
  PortInUse: { retry: 'transient', summary: 'a port the app needs is held by another process', hint: 'stop the other process or change `listen` / `preview.port`; the agent retries and serves once it is free', http: 409 },
  DockerUnavailable: { retry: 'transient', summary: 'the Docker engine did not answer, or failed on its own side (HTTP 5xx)', hint: 'check `docker info` and the dockerd log; the agent retries with backoff' },
  // The health gate (per target) and its verdict (per app).
  HealthCheckFailed: { retry: 'needs-human', summary: 'the new targets were not healthy in time (or failed again after passing); traffic stayed where it was', hint: 'read the last probe in the message and the app\'s logs (`switchyard logs APP`); fix and commit again, or `switchyard sync`' },
  TargetExited: { retry: 'wait', summary: 'a target\'s process exited during its health gate (Docker\'s restart policy brings it back)', hint: 'see `switchyard logs APP --color C` for why it exited' },
  TargetStopped: { retry: 'transient', summary: 'a target was stopped or removed from outside during its gate (the engine going down, `docker stop`)', hint: 'nothing, unless it keeps happening: then find who stops it' },
  CrashLoopBackOff: { retry: 'wait', summary: 'targets keep crashing; Docker restarts them with a backoff of up to a minute, out of the route until they pass the gate', hint: 'see the exit code, `switchyard logs APP`, and `resources.memory` when the OOM killer is named' },
  ChecksFailed: { retry: 'needs-human', summary: 'a smoke check (`checks`) failed against the new color through its preview route; the flip did not happen and the new targets were removed', hint: 'the message names the check (file:line), the status and the start of the body; fix the app and commit again, or `switchyard sync`' },
  GuardFailed: { retry: 'needs-human', summary: "after a flip the new color broke the guard's limits (`guard`: error rate, p99) within its window; the route went back to the previous color in one step", hint: 'the message has the measured figures; the commit is not flipped to again until a new commit or `switchyard sync`; git still asks for it until reverted (`guard.revertCommit`)' },
  WorkerFailed: { retry: 'needs-human', summary: 'new workers did not stay up; the previous workers keep running', hint: 'see `switchyard logs APP` for the worker\'s output' },
  // The data plane.
  RouteFailed: { retry: 'transient', summary: 'the data plane did not take a route change (no answer, a refused HAProxy file, a runtime-API error); the old route stays', hint: 'check that `switchyard proxy` or HAProxy runs (the agent starts it when missing); the agent retries' },
  DataPlaneRestarted: { retry: 'none', summary: 'the data plane (the embedded proxy or HAProxy) was found gone and started again at once, serving its saved route table', hint: 'find why it died (its log in the state dir); the agent counts restarts in the status' },
  ReconcileFailed: { retry: 'transient', summary: 'an unexpected failure while applying an app; nothing was routed to targets that were not gated', hint: 'the agent retries; if it persists, the log line with this reason has the details' },
  // Reconcile states: not failures.
  Progressing: { retry: 'none', summary: 'the app is being changed to match its commit', hint: 'wait; `switchyard wait --commit SHA` follows it' },
  Succeeded: { retry: 'none', summary: 'the app serves what its commit asks for', hint: 'nothing' },
  Superseded: { retry: 'none', summary: 'a newer commit arrived during the work; what the pass created is removed and the newer commit is applied next', hint: 'nothing' },
  Drift: { retry: 'none', summary: 'the host no longer matched the applied commit (a container stopped or removed by hand, a crash) and was corrected', hint: 'nothing; the journal records it' },
  Stale: { retry: 'none', summary: 'no pass has succeeded for `staleAfter` intervals (an alarm: the status, `switchyard_stale`, a notification)', hint: 'read the last errors in `switchyard status` and the log' },
  // The command line and the API.
  UsageError: { retry: 'needs-human', summary: 'a flag, a config value or a request is not valid', hint: 'the message names it; `switchyard --help`', http: 400 },
  Unauthorized: { retry: 'needs-human', summary: 'the API call needs the bearer token (or the webhook signature did not match)', hint: 'send Authorization: Bearer <token> (the CLI reads it from the state dir, or pass --token)', http: 401 },
  NotFound: { retry: 'needs-human', summary: 'no such API route or app', hint: 'GET /status lists the apps', http: 404 },
  PayloadTooLarge: { retry: 'needs-human', summary: 'a request body over the limit (1 MiB for the webhook)', hint: 'send a smaller body', http: 413 },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof ENTRIES;
export const CATALOGUE: Readonly<Record<Code, CodeInfo>> = ENTRIES;
export function isCode(value: unknown): value is Code {
  return typeof value === 'string' && Object.hasOwn(CATALOGUE, value);
}

export function retryOf(code: Code): RetryClass {
  return CATALOGUE[code].retry;
}

export interface Location {
  file?: string;
  line?: number;
  col?: number;
  field?: string;
}

/**
 * The one error type a user can meet: a stable code, where it happened, and what to do about it. `retry`
 * is the catalogue's class for the code unless the thrower knows better (a CreateFailed because a
 * container vanished right after it started says nothing against the spec: transient).
 */
export class SwitchyardError extends Error {
  readonly code: Code;
  readonly location: Location | undefined;
  readonly hint: string | undefined;
  readonly retry: RetryClass;

  constructor(code: Code, message: string, opts: { location?: Location; hint?: string; retry?: RetryClass; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SwitchyardError';
    this.code = code;
    this.location = opts.location;
    this.hint = opts.hint;
    this.retry = opts.retry ?? retryOf(code);
  }

  /** One line a person can act on: `apps/hello.yaml:12:5 colors.green.replicas: must be >= 0 (hint: ...)`. */
  override toString(): string {
    return formatProblem(this.message, this.location, this.hint);
  }
}

/** What the loop should do about a failure: the error's own class, else the catalogue's for `fallback`. */
export function retryClass(err: unknown, fallback: Code): RetryClass {
  return err instanceof SwitchyardError ? err.retry : retryOf(fallback);
}

export function formatLocation(loc: Location | undefined): string {
  if (!loc) return '';
  let where = loc.file ?? '';
  if (loc.line !== undefined) where += `:${loc.line}`;
  if (loc.line !== undefined && loc.col !== undefined) where += `:${loc.col}`;
  if (loc.field) where += where ? ` ${loc.field}` : loc.field;
  return where;
}

export function formatProblem(message: string, loc?: Location, hint?: string): string {
  const where = formatLocation(loc);
  return `${where ? `${where}: ` : ''}${message}${hint ? ` (hint: ${hint})` : ''}`;
}

export function errorMessage(err: unknown): string {
  if (err instanceof SwitchyardError) return err.toString();
  if (err instanceof Error) return err.message;
  return String(err);
}
