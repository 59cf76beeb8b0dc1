// Turns the files of one snapshot into a validated DesiredState, or into every error found, each
// located (file:line:col, field) with a hint. A snapshot with any error is refused whole.
import { LineCounter, parseDocument } from 'yaml';
import { parseDuration } from '../duration.js';
import { SwitchyardError } from '../errors.js';
import type { SnapshotFile } from '../source/snapshot.js';
import { DEFAULTS, type AppSpec, type Color, type ColorSpec, type DesiredState } from './app.js';
import { closest } from './did-you-mean.js';
import { appValidator, type ErrorObject } from './schema.js';
import { YamlLocator } from './yaml-location.js';

export type LoadResult = { ok: true; state: DesiredState } | { ok: false; errors: SwitchyardError[] };

const APP_FILE = /(^|\/)apps\/[^/]+\.ya?ml$/;
const MAX_FILE_BYTES = 256 * 1024;
const MAX_ALIASES = 100;

export function isAppFile(path: string): boolean {
  return APP_FILE.test(path);
}

export function loadDesired(commit: string, files: readonly SnapshotFile[]): LoadResult {
  const errors: SwitchyardError[] = [];
  const apps: { spec: AppSpec; locator: YamlLocator }[] = [];
  for (const file of files.filter((f) => isAppFile(f.path)).sort((a, b) => a.path.localeCompare(b.path))) {
    const loaded = loadAppFile(file);
    if ('errors' in loaded) errors.push(...loaded.errors);
    else apps.push(loaded);
  }
  errors.push(...crossFileErrors(apps));
  if (errors.length) return { ok: false, errors };
  return { ok: true, state: { commit, apps: apps.map((a) => a.spec) } };
}

function invalid(message: string, location: SwitchyardError['location'], hint?: string): SwitchyardError {
  return new SwitchyardError('ValidationFailed', message, { location, ...(hint ? { hint } : {}) });
}

function loadAppFile(file: SnapshotFile): { spec: AppSpec; locator: YamlLocator } | { errors: SwitchyardError[] } {
  const where = { file: file.path, line: 1, col: 1 };
  if (file.symlink) {
    return { errors: [invalid('file is a symbolic link; Switchyard never follows links', where, 'commit the app file itself')] };
  }
  if (file.content.length > MAX_FILE_BYTES) {
    return { errors: [invalid(`file is ${file.content.length} bytes, more than the limit of ${MAX_FILE_BYTES}`, where, 'split it or remove what is not needed')] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.content);
  } catch {
    return { errors: [invalid('file is not valid UTF-8', where, 're-save it as UTF-8')] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const locator = new YamlLocator(file.path, doc, lines);
  if (doc.errors.length) {
    return {
      errors: doc.errors.map((e) =>
        invalid(`YAML: ${e.message.split('\n')[0]}`, locator.offset(e.pos[0]), 'fix the YAML syntax; a YAML linter shows the exact spot'),
      ),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return { errors: [invalid(`YAML: ${(e as Error).message}`, where, `use at most ${MAX_ALIASES} alias expansions`)] };
  }
  const validate = appValidator();
  if (!validate(data)) {
    const errors = (validate.errors ?? []).map((e) => schemaError(e, locator));
    return { errors: errors.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0)) };
  }
  const raw = data as RawApp;
  const badRule = (raw.rules ?? []).findIndex((r) => (r.header === undefined) === (r.cookie === undefined));
  if (badRule >= 0) {
    return { errors: [invalid('a rule matches on exactly one of "header" or "cookie"', locator.value(['rules', badRule]), 'e.g. { header: X-Beta, value: "1", color: green }')] };
  }
  const spec = toSpec(file.path, raw);
  if (spec.colors[spec.active].replicas === 0) {
    const where = locator.value(['colors', spec.active, 'replicas']);
    return { errors: [invalid(`the active color "${spec.active}" has 0 replicas: nothing would serve`, where, 'give it at least 1 replica, or make the other color active')] };
  }
  return { spec, locator };
}

function schemaError(e: ErrorObject, locator: YamlLocator): SwitchyardError {
  const path = e.instancePath.split('/').slice(1).map(decodePointer);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = closest(key, known);
      return invalid(`unknown field "${key}"`, locator.key(path, key), guess ? `did you mean "${guess}"?` : `known fields: ${known.join(', ')}`);
    }
    case 'required': {
      const key = String(e.params.missingProperty);
      return invalid(`missing required field "${key}"`, { ...locator.value(path), field: [...path, key].join('.') }, 'add it; see schemas/app.schema.json');
    }
    case 'enum':
      return invalid(`must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`, locator.value(path));
    case 'pattern':
      return invalid(`${JSON.stringify(e.data)} is not valid`, locator.value(path), describeField(e) ?? `must match ${String(e.params.pattern)}`);
    case 'type':
      return invalid(`${JSON.stringify(e.data)} must be ${String(e.params.type).replace(',', ' or ')}`, locator.value(path), describeField(e));
    default:
      return invalid(e.message ?? 'is not valid', locator.value(path));
  }
}

function describeField(e: ErrorObject): string | undefined {
  return (e.parentSchema as { description?: string } | undefined)?.description;
}

function decodePointer(segment: string): string | number {
  const s = segment.replace(/~1/g, '/').replace(/~0/g, '~');
  return /^\d+$/.test(s) ? Number(s) : s;
}

interface RawColor { image: string; replicas?: number; env?: Record<string, string | number | boolean> }
interface RawApp {
  name: string;
  listen: number;
  port: number;
  drainTimeout?: string;
  health?: { path?: string; interval?: string; timeout?: string; healthyThreshold?: number; startTimeout?: string };
  colors: Record<Color, RawColor>;
  active: Color;
  preview?: { header?: string; cookie?: string; port?: number };
  canary?: { weight: number; sticky?: boolean };
  rules?: { header?: string; cookie?: string; value: string; color: Color }[];
}

// The schema already guaranteed shapes and duration syntax; this only applies defaults.
function toSpec(file: string, raw: RawApp): AppSpec {
  const ms = (text: string | undefined, fallback: number) => (text === undefined ? fallback : parseDuration(text)!);
  const h = raw.health ?? {};
  const color = (c: RawColor): ColorSpec => ({
    image: c.image,
    replicas: c.replicas ?? DEFAULTS.replicas,
    env: Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, String(v)])),
  });
  return {
    name: raw.name,
    file,
    listen: raw.listen,
    port: raw.port,
    drainTimeoutMs: ms(raw.drainTimeout, DEFAULTS.drainTimeoutMs),
    health: {
      path: h.path ?? DEFAULTS.health.path,
      intervalMs: ms(h.interval, DEFAULTS.health.intervalMs),
      timeoutMs: ms(h.timeout, DEFAULTS.health.timeoutMs),
      healthyThreshold: h.healthyThreshold ?? DEFAULTS.health.healthyThreshold,
      startTimeoutMs: ms(h.startTimeout, DEFAULTS.health.startTimeoutMs),
    },
    colors: { blue: color(raw.colors.blue), green: color(raw.colors.green) },
    active: raw.active,
    routing: {
      ...(raw.preview
        ? { preview: { header: raw.preview.header ?? DEFAULTS.preview.header, cookie: raw.preview.cookie ?? DEFAULTS.preview.cookie, ...(raw.preview.port ? { port: raw.preview.port } : {}) } }
        : {}),
      ...(raw.canary ? { canary: { weight: raw.canary.weight, sticky: raw.canary.sticky ?? true } } : {}),
      rules: raw.rules ?? [],
    },
  };
}

function crossFileErrors(apps: { spec: AppSpec; locator: YamlLocator }[]): SwitchyardError[] {
  const errors: SwitchyardError[] = [];
  const names = new Map<string, AppSpec>();
  const ports = new Map<number, { app: AppSpec; what: string }>();
  for (const { spec, locator } of apps) {
    const byName = names.get(spec.name);
    if (byName) errors.push(invalid(`app name "${spec.name}" is already used by ${byName.file}`, locator.value(['name']), 'app names must be unique across apps/'));
    else names.set(spec.name, spec);
    const own: [number | undefined, string, (string | number)[]][] = [
      [spec.listen, 'listen port', ['listen']],
      [spec.routing.preview?.port, 'preview port', ['preview', 'port']],
    ];
    for (const [port, what, path] of own) {
      if (port === undefined) continue;
      const taken = ports.get(port);
      if (taken) {
        const by = taken.app === spec ? `this app's ${taken.what}` : `app "${taken.app.name}" (${taken.app.file}) as its ${taken.what}`;
        errors.push(invalid(`${what} ${port} is already used by ${by}`, locator.value(path), 'give each app its own listen and preview ports'));
      } else ports.set(port, { app: spec, what });
    }
  }
  return errors;
}
