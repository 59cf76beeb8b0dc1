// The desired state of one app, after validation and defaults: what the rest of the agent works from.
import type { Location } from './errors.js';

export const COLORS = ['blue', 'green'] as const;
export type Color = (typeof COLORS)[number];

export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}

export interface HealthSpec {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  /** Consecutive failures after a pass that fail the gate at once. */
  unhealthyThreshold: number;
  startTimeoutMs: number;
  /** The status a healthy target answers; undefined: any 2xx. */
  expectStatus?: number;
  /** A TCP connect instead of an HTTP request. */
  tcp: boolean;
}

export interface VolumeSpec {
  /** A named volume, or a host path (bind mount); exactly one. */
  name?: string;
  hostPath?: string;
  path: string;
  readOnly: boolean;
}

/** An env value read from a file on the agent's host when the target is created. */
export interface EnvFile {
  file: string;
  /** Where it was asked for, for errors. */
  field: string;
}

/** An image built on the agent's host from a folder of the repository. */
export interface BuildSpec {
  /** From the folder that holds apps/. */
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  /** Where it was asked for (file:line, field), for errors. */
  location?: Location;
}

/** One color after merging the shared fields with the color's own. */
export interface ColorSpec {
  /** With `build`, the content-hash tag, set once the context has been read (resolveBuilds). */
  image: string;
  build?: BuildSpec;
  replicas: number;
  env: Record<string, string>;
  envFiles: Record<string, EnvFile>;
  /** Once env files are read: an HMAC of their values with the host's key, which the spec hash covers instead of them. */
  secretDigest?: string;
  command?: string[];
  args?: string[];
  resources: { memoryBytes?: number; cpus?: number };
  volumes: VolumeSpec[];
  labels: Record<string, string>;
  privileged: boolean;
  network: 'bridge' | 'host';
  pid?: 'host';
  capAdd: string[];
  devices: string[];
  /** Where a swarm may run it (the app's `placement`, the same for both colors); the docker runtime refuses it. */
  placement?: PlacementSpec;
}

/** Swarm placement: node constraints as Swarm writes them, and a cap on one color's targets per node. */
export interface PlacementSpec {
  constraints: string[];
  maxReplicasPerNode?: number;
}

/** How requests choose a color beyond `active`. Everything is off unless the app asks for it. */
export interface RoutingSpec {
  preview?: { header: string; cookie: string; port?: number };
  canary?: { weight: number; sticky: boolean };
  rules: { header?: string; cookie?: string; value: string; color: Color }[];
}

/** A container with no route that runs the active color's image and settings with its own command. */
export interface WorkerSpec {
  name: string;
  command?: string[];
  args?: string[];
  replicas: number;
  env: Record<string, string>;
}

/** Certificate and key files on the agent's host (PEM), and where the app file names them. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  location?: Location;
  /** Once the files are read and checked on this pass: a digest of their content (the route carries it). */
  digest?: string;
}

/** How the app meets requests beyond its targets: host names on the shared entrypoints, TLS, maintenance, limits. */
export interface EdgeSpec {
  /** Lowercase; exact names or `*.domain` (any one label). Empty: served on `listen` only. */
  hosts: string[];
  /** `/` when none was given. */
  pathPrefix: string;
  stripPrefix: boolean;
  tls?: 'acme' | TlsFiles;
  maintenance?: { message: string; retryAfterS?: number };
  limits: { maxRequestBodyBytes?: number; requestTimeoutMs?: number };
}

/** A smoke check: one request to the new color, through its preview route, after the gate and before the flip. */
export interface CheckSpec {
  path: string;
  method: string;
  headers: Record<string, string>;
  /** Absent: any 2xx. */
  expectStatus?: number;
  bodyContains?: string;
  timeoutMs: number;
  /** Where the app file has it, for messages. */
  location?: Location;
}

/** After a flip, the new color is watched for `windowMs` with the data plane's counters, and flipped back on a breach. */
export interface GuardSpec {
  windowMs: number;
  /** A fraction (0.01 for 1%). */
  maxErrorRate: number;
  maxP99Ms?: number;
  minRequests: number;
  revertCommit: boolean;
  location?: Location;
}

export interface AppSpec {
  name: string;
  /** Where it came from, for messages: the file path in the repository. */
  file: string;
  /** A port of the app's own; absent when it is served by host name only. */
  listen?: number;
  edge: EdgeSpec;
  port: number;
  drainTimeoutMs: number;
  /** After a flip, how long the old color stays running; undefined: forever. */
  scaleDownDelayMs?: number;
  /** New targets brought up at a time when the serving color changes in place. */
  surge: number;
  health: HealthSpec;
  /** Smoke checks before a flip (none: the gate alone decides). */
  checks: CheckSpec[];
  guard?: GuardSpec;
  colors: Record<Color, ColorSpec>;
  active: Color;
  routing: RoutingSpec;
  workers: WorkerSpec[];
}

export interface DesiredState {
  commit: string;
  apps: AppSpec[];
}

export const DEFAULTS = {
  replicas: 1,
  drainTimeoutMs: 30_000,
  health: { path: '/', intervalMs: 1000, timeoutMs: 2000, healthyThreshold: 3, unhealthyThreshold: 3, startTimeoutMs: 60_000, tcp: false },
  preview: { header: 'X-Switchyard-Color', cookie: 'switchyard-color' },
  checkTimeoutMs: 5000,
  guardMinRequests: 50,
} as const;

/** The inactive color takes requests only when preview, a canary or a rule asks for it. */
export function routesStandby(app: Pick<AppSpec, 'routing'>): boolean {
  const r = app.routing;
  return Boolean(r.preview || (r.canary && r.canary.weight > 0) || r.rules.length);
}
