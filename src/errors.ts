// The one error type a user can meet: a stable code, where it happened, and what to do about it.
// The `retry` class tells the loop what to do next (Flux-style): a human must act, or try again later.

export type ErrorCode =
  | 'FetchFailed'
  | 'ValidationFailed'
  | 'PolicyDenied'
  | 'SecretUnavailable'
  | 'ImagePullFailed'
  | 'BuildFailed'
  | 'CreateFailed'
  | 'HealthCheckFailed'
  | 'RouteFailed'
  | 'PortInUse'
  | 'DockerUnavailable'
  | 'UsageError';

export interface Location {
  file?: string;
  line?: number;
  col?: number;
  field?: string;
}

export type RetryClass = 'needs-human' | 'transient';

export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly location: Location | undefined;
  readonly hint: string | undefined;
  readonly retry: RetryClass;

  constructor(code: ErrorCode, message: string, opts: { location?: Location; hint?: string; retry?: RetryClass; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SwitchyardError';
    this.code = code;
    this.location = opts.location;
    this.hint = opts.hint;
    this.retry = opts.retry ?? 'needs-human';
  }

  /** One line a person can act on: `apps/hello.yaml:12:5 colors.green.replicas: must be >= 0 (hint: ...)`. */
  override toString(): string {
    return formatProblem(this.message, this.location, this.hint);
  }
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
