// From a schema-valid app document to an AppSpec: defaults applied, and each color's fields merged
// over the shared ones at the top of the file (env and labels key by key; anything else replaced).
import { parseDuration } from '../core/duration.js';
import { COLORS, DEFAULTS, type AppSpec, type Color, type ColorSpec, type EdgeSpec, type EnvFile, type VolumeSpec } from '../core/app.js';
import { normalPrefix } from '../core/hostname.js';

type RawEnv = Record<string, string | number | boolean | { file: string }>;

export interface RawContainer {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string | number | boolean> };
  replicas?: number;
  env?: RawEnv;
  command?: string[];
  args?: string[];
  resources?: { memory?: string; cpus?: number };
  volumes?: { name?: string; hostPath?: string; path: string; readOnly?: boolean }[];
  labels?: Record<string, string>;
  privileged?: boolean;
  network?: 'bridge' | 'host';
  pid?: 'host';
  capAdd?: string[];
  devices?: string[];
}

export interface RawApp extends RawContainer {
  name: string;
  listen?: number;
  hosts?: string[];
  pathPrefix?: string;
  stripPrefix?: boolean;
  tls?: 'acme' | { certFile: string; keyFile: string };
  maintenance?: { message?: string; retryAfter?: string };
  limits?: { maxRequestBody?: string; requestTimeout?: string };
  port: number;
  drainTimeout?: string;
  scaleDownDelay?: string;
  surge?: number;
  health?: { path?: string; interval?: string; timeout?: string; healthyThreshold?: number; unhealthyThreshold?: number; startTimeout?: string; expectStatus?: number; tcp?: boolean };
  checks?: { path: string; method?: string; headers?: Record<string, string>; expectStatus?: number; bodyContains?: string; timeout?: string }[];
  guard?: { window: string; maxErrorRate: string; maxP99?: string; minRequests?: number; revertCommit?: boolean };
  placement?: { constraints?: string[]; maxReplicasPerNode?: number };
  colors: Record<Color, RawContainer>;
  active: Color;
  preview?: { header?: string; cookie?: string; port?: number };
  canary?: { weight: number; sticky?: boolean };
  rules?: { header?: string; cookie?: string; value: string; color: Color }[];
  workers?: Record<string, { command?: string[]; args?: string[]; replicas?: number; env?: Record<string, string | number | boolean> }>;
}

const MEMORY_UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export function toAppSpec(file: string, raw: RawApp): AppSpec {
  const ms = (text: string | undefined, fallback: number) => (text === undefined ? fallback : parseDuration(text)!);
  const h = raw.health ?? {};
  return {
    name: raw.name,
    file,
    ...(raw.listen !== undefined ? { listen: raw.listen } : {}),
    edge: edgeSpec(raw),
    port: raw.port,
    drainTimeoutMs: ms(raw.drainTimeout, DEFAULTS.drainTimeoutMs),
    ...(raw.scaleDownDelay !== undefined ? { scaleDownDelayMs: parseDuration(raw.scaleDownDelay)! } : {}),
    surge: raw.surge ?? 1,
    health: {
      path: h.path ?? DEFAULTS.health.path,
      intervalMs: ms(h.interval, DEFAULTS.health.intervalMs),
      timeoutMs: ms(h.timeout, DEFAULTS.health.timeoutMs),
      healthyThreshold: h.healthyThreshold ?? DEFAULTS.health.healthyThreshold,
      unhealthyThreshold: h.unhealthyThreshold ?? DEFAULTS.health.unhealthyThreshold,
      startTimeoutMs: ms(h.startTimeout, DEFAULTS.health.startTimeoutMs),
      tcp: h.tcp ?? false,
      ...(h.expectStatus !== undefined ? { expectStatus: h.expectStatus } : {}),
    },
    checks: (raw.checks ?? []).map((c) => ({
      path: c.path,
      method: c.method ?? 'GET',
      headers: c.headers ?? {},
      ...(c.expectStatus !== undefined ? { expectStatus: c.expectStatus } : {}),
      ...(c.bodyContains !== undefined ? { bodyContains: c.bodyContains } : {}),
      timeoutMs: ms(c.timeout, DEFAULTS.checkTimeoutMs),
    })),
    ...(raw.guard
      ? {
          guard: {
            windowMs: parseDuration(raw.guard.window)!,
            maxErrorRate: Number(raw.guard.maxErrorRate.slice(0, -1)) / 100,
            ...(raw.guard.maxP99 !== undefined ? { maxP99Ms: parseDuration(raw.guard.maxP99)! } : {}),
            minRequests: raw.guard.minRequests ?? DEFAULTS.guardMinRequests,
            revertCommit: raw.guard.revertCommit ?? false,
          },
        }
      : {}),
    colors: Object.fromEntries(COLORS.map((c) => [c, colorSpec(raw, c)])) as Record<Color, ColorSpec>,
    active: raw.active,
    routing: {
      ...(raw.preview
        ? { preview: { header: raw.preview.header ?? DEFAULTS.preview.header, cookie: raw.preview.cookie ?? DEFAULTS.preview.cookie, ...(raw.preview.port ? { port: raw.preview.port } : {}) } }
        : {}),
      ...(raw.canary ? { canary: { weight: raw.canary.weight, sticky: raw.canary.sticky ?? true } } : {}),
      rules: raw.rules ?? [],
    },
    workers: Object.entries(raw.workers ?? {}).map(([name, w]) => ({
      name,
      ...(w.command ? { command: w.command } : {}),
      ...(w.args ? { args: w.args } : {}),
      replicas: w.replicas ?? 1,
      env: Object.fromEntries(Object.entries(w.env ?? {}).map(([k, v]) => [k, String(v)])),
    })),
  };
}

function edgeSpec(raw: RawApp): EdgeSpec {
  const { maintenance: m, limits = {} } = raw;
  return {
    hosts: (raw.hosts ?? []).map((h) => h.toLowerCase().replace(/\.$/, '')),
    pathPrefix: normalPrefix(raw.pathPrefix),
    stripPrefix: raw.stripPrefix ?? false,
    ...(raw.tls ? { tls: raw.tls === 'acme' ? 'acme' : { certFile: raw.tls.certFile, keyFile: raw.tls.keyFile } } : {}),
    ...(m ? { maintenance: { message: m.message ?? 'This site is down for maintenance.', ...(m.retryAfter ? { retryAfterS: Math.ceil(parseDuration(m.retryAfter)! / 1000) } : {}) } } : {}),
    limits: {
      ...(limits.maxRequestBody ? { maxRequestBodyBytes: parseSize(limits.maxRequestBody) } : {}),
      ...(limits.requestTimeout ? { requestTimeoutMs: parseDuration(limits.requestTimeout)! } : {}),
    },
  };
}

/** Bytes from a schema-valid size: a number, or with k, m, g (binary units). */
function parseSize(text: string): number {
  const [, n, unit] = /^([0-9]+)(k|m|g)?$/.exec(text)!;
  return Number(n) * MEMORY_UNIT[unit ?? '']!;
}

function colorSpec(raw: RawApp, color: Color): ColorSpec {
  const own = raw.colors[color];
  const pick = <K extends keyof RawContainer>(key: K): RawContainer[K] => (own[key] !== undefined ? own[key] : raw[key]);
  const env: Record<string, string> = {};
  const envFiles: Record<string, EnvFile> = {};
  for (const [where, values] of [['', raw.env], [`colors.${color}.`, own.env]] as const) {
    for (const [k, v] of Object.entries(values ?? {})) {
      if (typeof v === 'object') {
        envFiles[k] = { file: v.file, field: `${where}env.${k}` };
        delete env[k];
      } else {
        env[k] = String(v);
        delete envFiles[k];
      }
    }
  }
  const resources = pick('resources') ?? {};
  const volumes: VolumeSpec[] = (pick('volumes') ?? []).map((v) => ({
    ...(v.name ? { name: v.name } : {}),
    ...(v.hostPath ? { hostPath: v.hostPath } : {}),
    path: v.path,
    readOnly: v.readOnly ?? false,
  }));
  const command = pick('command');
  const args = pick('args');
  const pid = pick('pid');
  // The nearer of image and build wins: a color's own build replaces a shared image, and the reverse.
  const imageFrom = own.image !== undefined || own.build !== undefined ? own : raw;
  const build = imageFrom.build;
  return {
    image: imageFrom.image ?? '',
    ...(build
      ? {
          build: {
            context: build.context.replace(/\/+$/, ''),
            dockerfile: build.dockerfile ?? 'Dockerfile',
            args: Object.fromEntries(Object.entries(build.args ?? {}).map(([k, v]) => [k, String(v)])),
          },
        }
      : {}),
    replicas: pick('replicas') ?? DEFAULTS.replicas,
    env,
    envFiles,
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    resources: {
      ...(resources.memory ? { memoryBytes: parseSize(resources.memory) } : {}),
      ...(resources.cpus !== undefined ? { cpus: resources.cpus } : {}),
    },
    volumes,
    labels: { ...(raw.labels ?? {}), ...(own.labels ?? {}) },
    privileged: pick('privileged') ?? false,
    network: pick('network') ?? 'bridge',
    ...(raw.placement ? { placement: { constraints: (raw.placement.constraints ?? []).map((c) => c.replace(/ *(==|!=) */, '$1')), ...(raw.placement.maxReplicasPerNode ? { maxReplicasPerNode: raw.placement.maxReplicasPerNode } : {}) } } : {}),
    ...(pid ? { pid } : {}),
    capAdd: pick('capAdd') ?? [],
    devices: pick('devices') ?? [],
  };
}

/** The path of a container field as the user wrote it: in the color when set there, else at the top. */
export function fieldPath(raw: RawApp, color: Color, key: keyof RawContainer): (string | number)[] {
  return raw.colors[color][key] !== undefined ? ['colors', color, key] : [key];
}
