// Turns the files of one snapshot into a validated DesiredState, or into every error found, each
// located (file:line:col, field) with a hint. A snapshot with any error is refused whole.
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { SwitchyardError, type Location } from '../core/errors.js';
import type { SnapshotFile } from '../core/source.js';
import { checkEdgePolicy, checkPlacementPolicy, checkPolicy, DEFAULT_POLICY, type Policy } from '../policy/policy.js';
import { edgeErrors, hostClaimErrors } from './edge.js';
import { TEXT_ONLY, type HostView } from '../core/host.js';
import { COLORS, type AppSpec, type DesiredState } from '../core/app.js';
import { fieldPath, toAppSpec, type RawApp, type RawContainer } from './app-spec.js';
import { closest } from '../core/did-you-mean.js';
import { appValidator, type ErrorObject } from './schema.js';
import { YamlLocator } from '../core/yaml-location.js';

export type LoadResult = { ok: true; state: DesiredState } | { ok: false; errors: SwitchyardError[] };

const APP_FILE = /(^|\/)apps\/[^/]+\.ya?ml$/;
const MAX_FILE_BYTES = 256 * 1024;
const MAX_ALIASES = 100;
/** A commit's apps/ folder: at most this many app files, and this many bytes in all. */
export const MAX_APP_FILES = 500;
export const MAX_APPS_BYTES = 8 * 1024 * 1024;
/** Errors reported per file: a file with thousands of mistakes must not stall the agent's loop. */
const MAX_ERRORS_PER_FILE = 50;
/** Keys that would reach an object's prototype in JavaScript: never data. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isAppFile(path: string): boolean {
  return APP_FILE.test(path);
}

/** `host`: how host paths are judged (as text, or resolved on the agent's host: core/host-path.ts). */
export function loadDesired(commit: string, files: readonly SnapshotFile[], policy: Policy = DEFAULT_POLICY, host: HostView = TEXT_ONLY): LoadResult {
  const errors: SwitchyardError[] = [];
  const apps: { spec: AppSpec; locator: YamlLocator }[] = [];
  const appFiles = files.filter((f) => isAppFile(f.path)).sort((a, b) => a.path.localeCompare(b.path));
  const bytes = appFiles.reduce((n, f) => n + f.content.length, 0);
  if (appFiles.length > MAX_APP_FILES || bytes > MAX_APPS_BYTES) {
    const where = { file: appFiles[0]?.path.replace(/[^/]+$/, '') ?? 'apps/' };
    return { ok: false, errors: [invalid(`${appFiles.length} app files, ${bytes} bytes: more than the limit of ${MAX_APP_FILES} files and ${MAX_APPS_BYTES} bytes`, where, 'split the apps over several agents (--path), or remove what is not needed')] };
  }
  for (const file of appFiles) {
    const loaded = loadAppFile(file, policy, host);
    if ('errors' in loaded) errors.push(...loaded.errors);
    else apps.push(loaded);
  }
  errors.push(...crossFileErrors(apps), ...hostClaimErrors(apps.map(({ spec, locator }) => ({ spec, at: (path: (string | number)[]) => locator.value(path) }))));
  if (errors.length) return { ok: false, errors };
  return { ok: true, state: { commit, apps: apps.map((a) => a.spec) } };
}

function invalid(message: string, location: SwitchyardError['location'], hint?: string): SwitchyardError {
  return new SwitchyardError('ValidationFailed', message, { location, ...(hint ? { hint } : {}) });
}

function loadAppFile(file: SnapshotFile, policy: Policy, host: HostView): { spec: AppSpec; locator: YamlLocator } | { errors: SwitchyardError[] } {
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
  // Duplicate keys are found by keyProblems: the parser's own check takes quadratic time (2 s for 20,000 keys).
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const locator = new YamlLocator(file.path, doc, lines);
  if (doc.errors.length) {
    return {
      errors: doc.errors.map((e) =>
        invalid(`YAML: ${e.message.split('\n')[0]}`, locator.offset(e.pos[0]), 'fix the YAML syntax; a YAML linter shows the exact spot'),
      ),
    };
  }
  const badKeys = keyProblems(doc, locator);
  if (badKeys.length) return { errors: badKeys };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return { errors: [invalid(`YAML: ${(e as Error).message}`, where, `use at most ${MAX_ALIASES} alias expansions`)] };
  }
  const validate = appValidator();
  if (!validate(data)) {
    const all = validate.errors ?? [];
    const errors = all.slice(0, MAX_ERRORS_PER_FILE).map((e) => schemaError(e, locator)).sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0));
    if (all.length > MAX_ERRORS_PER_FILE) errors.push(invalid(`${all.length - MAX_ERRORS_PER_FILE} more error(s) in this file`, where, 'fix the ones above first'));
    return { errors };
  }
  const raw = data as RawApp;
  const spec = toAppSpec(file.path, raw);
  for (const color of COLORS) {
    const build = spec.colors[color].build;
    if (build) build.location = locator.value([...fieldPath(raw, color, 'build'), 'context']);
  }
  if (typeof spec.edge.tls === 'object') spec.edge.tls.location = locator.value(['tls', 'certFile']);
  spec.checks.forEach((c, i) => (c.location = locator.value(['checks', i])));
  if (spec.guard) spec.guard.location = locator.value(['guard']);
  const at = (path: (string | number)[]) => locator.value(path);
  const errors = [...semanticErrors(raw, spec, locator), ...guardErrors(spec, at, host), ...runtimeErrors(raw, spec, at, host), ...(host.runtime === 'docker' ? [] : checkPlacementPolicy(spec, policy, at)), ...edgeErrors(raw, spec, at, host), ...checkEdgePolicy(spec.edge, policy, at, host), ...checkPolicy(spec, policy, (color, key, more = []) => locator.value([...fieldPath(raw, color, key as keyof RawContainer), ...more]), host)];
  if (errors.length) return { errors: errors.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0)) };
  return { spec, locator };
}

/**
 * Keys that are duplicates within their map, and `__proto__`, `constructor` or `prototype` anywhere, each
 * at its place (at most MAX_ERRORS_PER_FILE of them).
 */
/** What the data plane cannot judge: a p99 on HAProxy, which keeps no latency histogram. */
function guardErrors(spec: AppSpec, at: (path: (string | number)[]) => Location, host: HostView): SwitchyardError[] {
  if (spec.guard?.maxP99Ms === undefined || host.measuresLatency !== false) return [];
  return [invalid('cannot be judged by the HAProxy data plane: its stats keep no latency histogram', at(['guard', 'maxP99']), 'remove maxP99 (maxErrorRate still guards the flip), or run the embedded data plane')];
}

/**
 * Fields only one runtime understands: placement is the swarm's; a swarm service cannot be privileged,
 * use the host's network or process namespace, or map devices (Swarm has no such settings).
 */
function runtimeErrors(raw: RawApp, spec: AppSpec, at: (path: (string | number)[]) => Location, host: HostView): SwitchyardError[] {
  if (host.runtime === 'docker' && raw.placement) {
    return [invalid('placement is for a swarm: this agent runs targets on one Docker host (runtime: docker)', at(['placement']), 'remove placement, or run the agent with runtime: swarm on a swarm manager')];
  }
  if (host.runtime !== 'swarm') return [];
  const errors: SwitchyardError[] = [];
  const refuse = (key: 'privileged' | 'network' | 'pid' | 'devices', what: string) => {
    for (const path of [[key], ...COLORS.map((c) => ['colors', c, key])]) {
      if (path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], raw) === undefined) continue;
      errors.push(invalid(`${what} cannot run on a swarm: Swarm services have no such setting`, at(path), `remove ${key}, or run this app on an agent with runtime: docker`));
    }
  };
  if (COLORS.some((c) => spec.colors[c].privileged)) refuse('privileged', 'privileged mode');
  if (COLORS.some((c) => spec.colors[c].network === 'host')) refuse('network', 'the host network');
  if (COLORS.some((c) => spec.colors[c].pid)) refuse('pid', "the host's process namespace");
  if (COLORS.some((c) => spec.colors[c].devices.length)) refuse('devices', 'host devices');
  return errors;
}

function keyProblems(doc: Document, locator: YamlLocator): SwitchyardError[] {
  const errors: SwitchyardError[] = [];
  const at = (node: { range?: [number, number, number] | null }) => locator.offset(node.range?.[0] ?? 0);
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key) && isScalar(pair.key)) errors.push(invalid(`Map keys must be unique: "${String(key)}" is there already`, at(pair.key), 'keep one of them'));
        seen.add(key);
        if (errors.length >= MAX_ERRORS_PER_FILE) break;
      }
      if (errors.length >= MAX_ERRORS_PER_FILE) return visit.BREAK;
      return undefined;
    },
    Pair(_, pair) {
      if (isScalar(pair.key) && FORBIDDEN_KEYS.has(String(pair.key.value))) {
        errors.push(invalid(`"${String(pair.key.value)}" cannot be a key`, at(pair.key), "rename it: this key would reach into JavaScript's object prototype"));
      }
      return errors.length >= MAX_ERRORS_PER_FILE ? visit.BREAK : undefined;
    },
  });
  return errors;
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

/** What the schema cannot say: rules match on one thing, every running color has an image, and so on. */
function semanticErrors(raw: RawApp, spec: AppSpec, locator: YamlLocator): SwitchyardError[] {
  const errors: SwitchyardError[] = [];
  const badRule = (raw.rules ?? []).findIndex((r) => (r.header === undefined) === (r.cookie === undefined));
  if (badRule >= 0) errors.push(invalid('a rule matches on exactly one of "header" or "cookie"', locator.value(['rules', badRule]), 'e.g. { header: X-Beta, value: "1", color: green }'));
  for (const color of COLORS) {
    const c = spec.colors[color];
    const own = raw.colors[color].image !== undefined || raw.colors[color].build !== undefined;
    if (c.image && c.build) errors.push(invalid('set exactly one of "image" or "build"', locator.value(own ? ['colors', color, 'build'] : ['build']), 'name an image, or build one from a folder of this repository'));
    else if (!c.image && !c.build && c.replicas > 0) errors.push(invalid(`no image for ${color}`, locator.value(['colors', color]), `set image (or build) at the top of the file or in colors.${color}`));
    c.volumes.forEach((v, i) => {
      if (Boolean(v.name) === Boolean(v.hostPath)) {
        errors.push(invalid('a volume has exactly one of "name" or "hostPath"', locator.value([...fieldPath(raw, color, 'volumes'), i]), 'e.g. { name: data, path: /data }'));
      }
    });
  }
  if (spec.colors[spec.active].replicas === 0) {
    errors.push(invalid(`the active color "${spec.active}" has 0 replicas: nothing would serve`, locator.value(fieldPath(raw, spec.active, 'replicas')), 'give it at least 1 replica, or make the other color active'));
  }
  // A field shared by both colors is reported once.
  return [...new Map(errors.map((e) => [`${e.location?.line}:${e.location?.col}:${e.message}`, e])).values()];
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
