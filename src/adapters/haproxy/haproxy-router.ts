// The HAProxy driver: a Router on Debian's HAProxy (2.6) in master-worker mode, running as a daemon
// that outlives the agent.
// - A flip is a runtime-API change (server slots, then the app's entry in a map), confirmed by reading
//   the map back: no reload, no dropped connection.
// - Only a change of the configuration itself (apps, ports, preview, canary, rules) reloads, after
//   `haproxy -c` accepted the new file; a refused file leaves the running one in place. Server state is
//   dumped to `server-state-file` first, and the map files on disk are kept current, so a reload or a
//   restart comes back in the state it left. Changes that wait for one in progress go in together, with
//   one reload (see apply).
// - New targets take free slots, so the slots of retiring targets can be drained by their own counts.
// - After a flip, upgraded connections (WebSockets) on the old color are closed at random moments within
//   the drain window, as the embedded proxy does: clients reconnect to the new color, spread out.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Clock } from '../../core/clock.js';
import { COLORS, type Color } from '../../core/app.js';
import { SwitchyardError } from '../../core/errors.js';
import { withoutSecrets } from '../../core/process-env.js';
import { bootId, sameBoot } from '../../core/boot-id.js';
import type { AppRoute, ColorCounters, Router, Traffic } from '../../core/route.js';
import type { ChallengeResponder } from '../../core/certificates.js';
import { backendName, bundlePath, crtList, hostsMap, maintenancePage, renderConfig, SLOTS, usesStandbyMap, type HaproxyPaths } from './config.js';
import { haproxyCommand, parseStat, parseTunnels } from './runtime-api.js';

const run = promisify(execFile);
const READY_WAIT_MS = 15_000;
const DRAIN_POLL_MS = 50;

interface Slot {
  backend: string;
  server: string;
}

/** An apply or a remove not yet carried out, and its caller's promise. */
interface Waiting {
  change: { apply: AppRoute } | { remove: string };
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Saved {
  routes: AppRoute[];
  slots: Record<string, Slot>;
  /** The host's boot when it was saved: a table from an earlier boot is not served (core/boot-id.ts). */
  boot?: string;
}

/** Why HAProxy cannot hold `route` (more targets of a color than a backend has slots), if it cannot. */
function slotsExceeded(route: AppRoute): SwitchyardError | undefined {
  for (const color of COLORS) {
    const n = route.targets.filter((t) => t.color === color).length;
    if (n > SLOTS) return new SwitchyardError('RouteFailed', `app "${route.app}": ${n} ${color} targets, more than the ${SLOTS} HAProxy slots`, { hint: `use at most ${SLOTS} replicas with the haproxy router`, retry: 'needs-human' });
  }
  return undefined;
}

export function haproxyPaths(stateDir: string, instance: string): HaproxyPaths {
  const dir = join(stateDir, `${instance}.haproxy`);
  return {
    dir,
    config: join(dir, 'haproxy.cfg'),
    activeMap: join(dir, 'active.map'),
    standbyMap: join(dir, 'standby.map'),
    adminSocket: join(dir, 'admin.sock'),
    masterSocket: join(dir, 'master.sock'),
    serverState: join(dir, 'server-state'),
    pid: join(dir, 'haproxy.pid'),
    routes: join(dir, 'routes.json'),
    hostsHttpMap: join(dir, 'hosts-http.map'),
    hostsHttpsMap: join(dir, 'hosts-https.map'),
    challengesMap: join(dir, 'acme-challenges.map'),
    crtList: join(dir, 'crt-list'),
    certs: join(dir, 'certs'),
    pages: join(dir, 'pages'),
  };
}

export class HaproxyRouter implements Router, ChallengeResponder {
  private table = new Map<string, AppRoute>();
  /** Which server slot each target id holds (kept for retiring targets until they are drained). */
  private slots = new Map<string, Slot>();

  private changes: Promise<unknown> = Promise.resolve();
  /** Changes not yet carried out, in the order they were asked for (see apply). */
  private waiting: Waiting[] = [];

  /** Aborted by close(): grace timers of tunnels end with the agent (HAProxy's hard-stop-after remains). */
  private readonly closing = new AbortController();

  constructor(
    private readonly paths: HaproxyPaths,
    private readonly clock: Clock,
    private readonly opts: { bin?: string; random?: () => number } = {},
  ) {
    const saved = readSaved(paths.routes);
    for (const r of saved.routes) this.table.set(r.app, r);
    for (const [id, slot] of Object.entries(saved.slots)) this.slots.set(id, slot);
  }

  /** Adopts the HAProxy that answers on the master socket, or starts one with the saved table. */
  async start(): Promise<{ adopted: boolean }> {
    mkdirSync(this.paths.dir, { recursive: true });
    if (await this.running()) return { adopted: true };
    const config = renderConfig([...this.table.values()], this.paths);
    this.writeEdgeFiles(this.table);
    await this.check(config);
    writeFileSync(this.paths.config, config);
    this.writeMaps();
    if (!existsSync(this.paths.serverState)) writeFileSync(this.paths.serverState, '');
    try {
      await run(this.opts.bin ?? 'haproxy', ['-W', '-D', '-f', this.paths.config, '-p', this.paths.pid, '-S', `${this.paths.masterSocket},mode,600`], { env: withoutSecrets(process.env) });
    } catch (e) {
      throw new SwitchyardError('RouteFailed', `HAProxy did not start: ${firstAlert(e)}`, { hint: `check ${this.paths.config}` });
    }
    await this.waitForAdmin();
    for (const route of this.table.values()) await this.setRuntime(route);
    return { adopted: false };
  }

  /**
   * Changes of the table one at a time: the pass applies apps concurrently, and two applies that each
   * rendered the table as they found it would reload HAProxy without the other's app (seen with two
   * new TLS apps in one commit: one name missing from the crt-list until the next pass).
   */
  private serial<T>(change: () => Promise<T>): Promise<T> {
    const next = this.changes.then(change, change);
    this.changes = next.catch(() => undefined);
    return next;
  }

  /**
   * Applies that arrive while a change is in progress are applied together when it is done, with one
   * reload for all of them: a first convergence of N apps reloads a few times, not N times (each reload
   * also sets every route's servers again). A batch that fails is applied again one route at a time, so
   * that each apply learns its own outcome and one app's refused route holds back no other.
   */
  apply(route: AppRoute): Promise<void> {
    // A route HAProxy cannot hold at all is refused alone, before any batch.
    const refused = slotsExceeded(route);
    if (refused) return Promise.reject(refused);
    return this.enqueue({ apply: route });
  }

  remove(app: string): Promise<void> {
    return this.enqueue({ remove: app });
  }

  private enqueue(change: Waiting['change']): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ change, resolve, reject });
      void this.serial(() => this.next());
    });
  }

  /** Carries out the first waiting remove, or the longest run of waiting applies to distinct apps. */
  private async next(): Promise<void> {
    const settle = (w: Waiting, done: Promise<void>) => done.then(w.resolve, w.reject);
    const first = this.waiting[0];
    if (!first) return;
    if ('remove' in first.change) {
      this.waiting.shift();
      return settle(first, this.removeNow(first.change.remove));
    }
    // In the order asked: a remove, or a second route for an app in the run, waits for the next batch.
    const routes = new Map<string, AppRoute>();
    for (const { change } of this.waiting) {
      if (!('apply' in change) || routes.has(change.apply.app)) break;
      routes.set(change.apply.app, change.apply);
    }
    const batch = this.waiting.splice(0, routes.size);
    const ordered = [...routes.values()];
    if (batch.length === 1) return settle(batch[0]!, this.applyRoutes(ordered));
    try {
      await this.applyRoutes(ordered);
      for (const w of batch) w.resolve();
    } catch {
      for (const [i, w] of batch.entries()) await settle(w, this.applyRoutes([ordered[i]!]));
    }
  }

  private async applyRoutes(routes: readonly AppRoute[]): Promise<void> {
    const previous = new Map(routes.map((r) => [r.app, this.table.get(r.app)]));
    const next = new Map(this.table);
    for (const route of routes) next.set(route.app, route);
    const reloaded = await this.reloadIfChanged(next);
    // A renewed pair for a name already served: swapped in through the runtime API, no reload.
    for (const route of routes) {
      const tls = route.hosts?.https && route.hosts.tls;
      const before = previous.get(route.app);
      const servedTls = before?.hosts?.https && before.hosts.tls;
      if (!reloaded && tls && servedTls && tls.digest !== servedTls.digest) await this.updateCertificate(route);
    }
    this.table = next;
    // After a reload every route's servers and map entries were set again already (reloadIfChanged).
    if (!reloaded) for (const route of routes) await this.setRuntime(route);
    this.save();
    for (const route of routes) {
      const before = previous.get(route.app)?.color;
      if (before && before !== route.color) void this.closeTunnels(backendName(route.app, before), route.drainTimeoutMs);
    }
  }

  /**
   * Each tunnel open on the old color's backend at the flip is shut down at a random moment within
   * `windowMs`, unless it ended by itself: its unique id is checked again first, since the address of a
   * session that ended may belong to a new one by then.
   */
  private async closeTunnels(backend: string, windowMs: number): Promise<void> {
    const admin = this.paths.adminSocket;
    const tunnels = parseTunnels(await haproxyCommand(admin, 'show sess all').catch(() => '')).filter((t) => t.backend === backend);
    const random = this.opts.random ?? Math.random;
    await Promise.all(tunnels.map(async (t) => {
      await this.clock.sleep(Math.floor(random() * windowMs), this.closing.signal);
      if (this.closing.signal.aborted) return;
      const still = parseTunnels(await haproxyCommand(admin, `show sess ${t.ptr}`).catch(() => ''));
      if (still.some((s) => s.id === t.id && s.backend === backend)) await haproxyCommand(admin, `shutdown session ${t.ptr}`).catch(() => undefined);
    }));
  }

  /** ACME HTTP-01 answers, on the shared plain-HTTP frontend (the map is loaded where it is used). */
  async answer(token: string, keyAuthorization: string): Promise<void> {
    await this.setMap(this.paths.challengesMap, token, keyAuthorization);
  }

  async withdraw(token: string): Promise<void> {
    await haproxyCommand(this.paths.adminSocket, `del map ${this.paths.challengesMap} ${token}`);
  }

  readonly challengeTypes = ['http-01'] as const;

  async answerTlsAlpn(name: string): Promise<void> {
    throw new SwitchyardError('RouteFailed', `cannot answer a TLS-ALPN-01 challenge for ${name}: the HAProxy driver answers HTTP-01 only`, { hint: 'give the agent a shared HTTP port (--http)', retry: 'needs-human' });
  }

  async withdrawTlsAlpn(): Promise<void> {}

  /** Writes the app's new bundle and has the running workers take it: `set ssl cert`, then `commit ssl cert`. */
  private async updateCertificate(route: AppRoute): Promise<void> {
    const file = bundlePath(route.app, this.paths);
    const pem = this.writeBundle(route);
    const set = await haproxyCommand(this.paths.adminSocket, `set ssl cert ${file} <<\n${pem.trimEnd()}\n`);
    const commit = set.includes('Transaction') ? await haproxyCommand(this.paths.adminSocket, `commit ssl cert ${file}`) : set;
    if (!/Success/.test(commit)) throw new SwitchyardError('RouteFailed', `HAProxy did not take the new certificate of "${route.app}": ${commit.trim().split('\n').pop()}`, { hint: `the bundle is ${file}` });
  }

  /** The app's chain and key in one owner-only file, as HAProxy loads them; returns its text. */
  private writeBundle(route: AppRoute): string {
    const tls = route.hosts!.tls!;
    let pem: string;
    try {
      pem = `${readFileSync(tls.certFile, 'utf8').trimEnd()}\n${readFileSync(tls.keyFile, 'utf8').trimEnd()}\n`;
    } catch (e) {
      throw new SwitchyardError('RouteFailed', `app "${route.app}": cannot read ${tls.certFile} and ${tls.keyFile} for HAProxy: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'the files changed after the agent checked them; it tries again next pass' });
    }
    mkdirSync(this.paths.certs, { recursive: true, mode: 0o700 });
    writeAtomically(bundlePath(route.app, this.paths), pem, 0o600);
    return pem;
  }

  /** The files the configuration names besides itself: host maps, crt-list and bundles, maintenance pages. */
  private writeEdgeFiles(table: Map<string, AppRoute>): void {
    const routes = [...table.values()];
    mkdirSync(this.paths.pages, { recursive: true });
    writeAtomically(this.paths.hostsHttpMap, hostsMap('http', routes));
    writeAtomically(this.paths.hostsHttpsMap, hostsMap('https', routes));
    writeAtomically(this.paths.crtList, crtList(routes, this.paths));
    if (!existsSync(this.paths.challengesMap)) writeFileSync(this.paths.challengesMap, '');
    for (const r of routes) {
      if (r.hosts?.https && r.hosts.tls) this.writeBundle(r);
      if (r.maintenance) {
        const page = maintenancePage(r, this.paths);
        if (!existsSync(page.path)) writeAtomically(page.path, page.html);
      }
    }
  }

  private async removeNow(app: string): Promise<void> {
    if (!this.table.has(app)) return;
    const next = new Map(this.table);
    next.delete(app);
    await this.reloadIfChanged(next);
    this.table = next;
    for (const [id, slot] of this.slots) if (slot.backend.startsWith(`be_${app}_`)) this.slots.delete(id);
    this.writeMaps();
    this.save();
  }

  async routes(): Promise<AppRoute[]> {
    return [...this.table.values()];
  }

  async drain(targetIds: readonly string[], timeoutMs: number): Promise<number> {
    const routed = new Set([...this.table.values()].flatMap((r) => r.targets.map((t) => t.id)));
    const draining = targetIds.filter((id) => !routed.has(id) && this.slots.has(id));
    const deadline = this.clock.now() + timeoutMs;
    // Requests that began before a reload live in the old worker, whose stats the new one cannot see:
    // they count as in flight until every old worker has finished.
    const inFlight = async () => (await this.sessions(draining)) + (await this.oldWorkers());
    let left = await inFlight();
    while (left > 0 && this.clock.now() < deadline) {
      await this.clock.sleep(DRAIN_POLL_MS);
      left = await inFlight();
    }
    for (const id of draining) this.slots.delete(id);
    this.save();
    return left;
  }

  /** HAProxy's counters are per worker: they start again from zero after a reload. */
  async counters(app: string): Promise<Partial<Record<Color, ColorCounters>>> {
    return this.countersOf(app, await this.stat());
  }

  async traffic(): Promise<Traffic> {
    const rows = await this.stat();
    return Object.fromEntries([...this.table.keys()].map((app) => [app, this.countersOf(app, rows)]));
  }

  private async stat(): Promise<Map<string, Record<string, string>>> {
    const rows = parseStat(await haproxyCommand(this.paths.adminSocket, 'show stat -1 2 -1'));
    return new Map(rows.filter((r) => r.svname === 'BACKEND').map((r) => [r.pxname!, r]));
  }

  private countersOf(app: string, backends: Map<string, Record<string, string>>): Partial<Record<Color, ColorCounters>> {
    const out: Partial<Record<Color, ColorCounters>> = {};
    for (const color of COLORS) {
      const row = backends.get(backendName(app, color));
      if (!row) continue;
      const since = Number(row.lastsess);
      out[color] = {
        requests: Number(row.req_tot || row.stot || 0),
        errors5xx: Number(row.hrsp_5xx || 0),
        inFlight: Number(row.scur || 0),
        ...(since >= 0 ? { lastHit: this.clock.now() - since * 1000 } : {}),
      };
    }
    return out;
  }

  /** HAProxy keeps serving when the agent stops: that is the point. */
  async close(): Promise<void> {
    this.closing.abort();
  }

  /** Stops HAProxy itself (tests, uninstall). */
  async shutdown(): Promise<void> {
    const pid = Number(readFileSync(this.paths.pid, 'utf8').trim());
    if (pid > 0) process.kill(pid, 'SIGUSR1'); // soft stop: finish sessions, then exit
  }

  /** How many workers from before a reload are still finishing their sessions. */
  private async oldWorkers(): Promise<number> {
    const out = await haproxyCommand(this.paths.masterSocket, 'show proc').catch(() => '');
    const section = out.split('# old workers')[1]?.split('# programs')[0] ?? '';
    return section.split('\n').filter((l) => /^\d+\s+worker/.test(l)).length;
  }

  /** Worker pid(s) as the master reports them, to see whether a reload happened. */
  async workers(): Promise<string[]> {
    const out = await haproxyCommand(this.paths.masterSocket, 'show proc');
    return out.split('\n').filter((l) => /^\d+\s+worker\s+0\b/.test(l)).map((l) => l.split(/\s+/)[0]!);
  }

  private async setRuntime(route: AppRoute): Promise<void> {
    const commands: string[] = [];
    const after: string[] = [];
    for (const color of COLORS) {
      const backend = backendName(route.app, color);
      const targets = route.targets.filter((t) => t.color === color);
      const used = new Set([...this.slots.values()].filter((s) => s.backend === backend).map((s) => s.server));
      const mine = new Set<string>();
      const state = await this.serverStates(backend);
      for (const t of targets) {
        let slot = this.slots.get(t.id);
        if (!slot || slot.backend !== backend) {
          const free = Array.from({ length: SLOTS }, (_, i) => `s${i}`).find((s) => !used.has(s)) ?? this.reclaim(backend, targets.map((x) => x.id));
          slot = { backend, server: free };
          this.slots.set(t.id, slot);
          used.add(free);
        }
        mine.add(slot.server);
        // Only what changed: touching a serving slot for nothing is a needless risk to its connections.
        const now = state.get(slot.server);
        if (now?.addr !== t.host || now.port !== t.port) commands.push(`set server ${backend}/${slot.server} addr ${t.host} port ${t.port}`);
        if (now?.ready !== true) commands.push(`set server ${backend}/${slot.server} state ready`);
      }
      // Slots that take no new request: existing sessions finish; nothing new is sent.
      for (let i = 0; i < SLOTS; i++) if (!mine.has(`s${i}`) && state.get(`s${i}`)?.ready !== false) after.push(`set server ${backend}/s${i} state maint`);
    }
    await this.runtime(commands);
    const standby: Color = route.color === 'blue' ? 'green' : 'blue';
    await this.setMap(this.paths.activeMap, route.app, backendName(route.app, route.color));
    if (usesStandbyMap(route)) await this.setMap(this.paths.standbyMap, route.app, backendName(route.app, standby));
    await this.runtime(after);
    this.writeMaps();
  }

  /** Every slot of a backend is held: give back the ones of targets that are no longer routed. */
  private reclaim(backend: string, keep: readonly string[]): string {
    for (const [id, slot] of this.slots) {
      if (slot.backend === backend && !keep.includes(id)) {
        this.slots.delete(id);
        return slot.server;
      }
    }
    throw new SwitchyardError('RouteFailed', `no free server slot in ${backend}`, { hint: `use at most ${SLOTS} replicas with the haproxy router`, retry: 'needs-human' });
  }

  private async setMap(map: string, key: string, value: string): Promise<void> {
    const set = await haproxyCommand(this.paths.adminSocket, `set map ${map} ${key} ${value}`);
    if (/not found|unknown/i.test(set)) await haproxyCommand(this.paths.adminSocket, `add map ${map} ${key} ${value}`);
    // Read back: the flip counts only once HAProxy says so.
    const got = await haproxyCommand(this.paths.adminSocket, `get map ${map} ${key}`);
    if (!got.includes(`value="${value}"`)) {
      throw new SwitchyardError('RouteFailed', `HAProxy did not confirm ${key} -> ${value} in ${map}: ${got.trim()}`);
    }
  }

  private async runtime(commands: readonly string[]): Promise<void> {
    // Batches stay well under the CLI's line limit.
    for (let i = 0; i < commands.length; i += 32) {
      const out = await haproxyCommand(this.paths.adminSocket, commands.slice(i, i + 32).join(';'));
      const bad = out.split('\n').find((l) => /^(No such|Require|Invalid|Unknown)/i.test(l.trim()));
      if (bad) throw new SwitchyardError('RouteFailed', `HAProxy runtime API: ${bad.trim()}`);
    }
  }

  /** True when it reloaded. */
  private async reloadIfChanged(next: Map<string, AppRoute>): Promise<boolean> {
    const config = renderConfig([...next.values()], this.paths);
    if (existsSync(this.paths.config) && readFileSync(this.paths.config, 'utf8') === config) return false;
    this.writeEdgeFiles(next);
    await this.check(config);
    // Keep what the running workers know (addresses, states) across the reload.
    writeFileSync(this.paths.serverState, await haproxyCommand(this.paths.adminSocket, 'show servers state'));
    const before = await this.workers();
    writeFileSync(`${this.paths.config}.new`, config);
    renameSync(`${this.paths.config}.new`, this.paths.config);
    this.writeMaps(next);
    await haproxyCommand(this.paths.masterSocket, 'reload');
    const deadline = this.clock.now() + READY_WAIT_MS;
    while (this.clock.now() < deadline) {
      const now = await this.workers().catch(() => [] as string[]);
      if (now.length && now.some((p) => !before.includes(p)) && (await haproxyCommand(this.paths.adminSocket, 'show info').catch(() => '')).includes('Pid:')) {
        for (const route of next.values()) await this.setRuntime(route);
        return true;
      }
      await this.clock.sleep(50);
    }
    throw new SwitchyardError('RouteFailed', 'HAProxy did not come back from a reload in time', { hint: `see ${this.paths.config}` });
  }

  /** `haproxy -c` on a candidate file: a configuration HAProxy refuses never replaces the running one. */
  private async check(config: string): Promise<void> {
    const candidate = join(this.paths.dir, 'haproxy.cfg.check');
    writeFileSync(candidate, config);
    try {
      await run(this.opts.bin ?? 'haproxy', ['-c', '-q', '-f', candidate]);
    } catch (e) {
      // The file comes from the commit's apps: trying it again cannot help until they change.
      throw new SwitchyardError('RouteFailed', `HAProxy refused the new configuration, the running one is kept: ${firstAlert(e)}`, {
        hint: `the refused file is ${candidate}`,
        retry: 'needs-human',
      });
    }
    rmSync(candidate, { force: true });
  }

  private writeMaps(table: Map<string, AppRoute> = this.table): void {
    const lines = (pick: (r: AppRoute) => Color) => [...table.values()].map((r) => `${r.app} ${backendName(r.app, pick(r))}\n`).join('');
    writeFileSync(this.paths.activeMap, lines((r) => r.color));
    writeFileSync(this.paths.standbyMap, lines((r) => (r.color === 'blue' ? 'green' : 'blue')));
  }

  /** Address and admin state of each slot of a backend, from `show servers state`. */
  private async serverStates(backend: string): Promise<Map<string, { addr: string; port: number; ready: boolean }>> {
    const out = await haproxyCommand(this.paths.adminSocket, `show servers state ${backend}`);
    const states = new Map<string, { addr: string; port: number; ready: boolean }>();
    // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ... srv_port (18th).
    for (const line of out.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 18 || f[1] !== backend) continue;
      // Ready: no maintenance or drain flag (forced, inherited, resolution, hostname: 0x7b). CMAINT (0x04)
      // only records that the configuration file said `disabled`; `set server state ready` leaves it set.
      states.set(f[3]!, { addr: f[4]!, port: Number(f[18]), ready: (Number(f[6]) & 0x7b) === 0 });
    }
    return states;
  }

  private async sessions(ids: readonly string[]): Promise<number> {
    if (!ids.length) return 0;
    // Type mask 4: server rows only (a target's sessions are its slot's; 2 would give backends only).
    const rows = parseStat(await haproxyCommand(this.paths.adminSocket, 'show stat -1 4 -1'));
    return ids.reduce((n, id) => {
      const slot = this.slots.get(id)!;
      const row = rows.find((r) => r.pxname === slot.backend && r.svname === slot.server);
      return n + Number(row?.scur ?? 0);
    }, 0);
  }

  private save(): void {
    const boot = bootId();
    const saved: Saved = { routes: [...this.table.values()], slots: Object.fromEntries(this.slots), ...(boot ? { boot } : {}) };
    writeFileSync(`${this.paths.routes}.tmp`, `${JSON.stringify(saved, null, 2)}\n`);
    renameSync(`${this.paths.routes}.tmp`, this.paths.routes);
  }

  private async running(): Promise<boolean> {
    if (!existsSync(this.paths.adminSocket)) return false;
    return (await haproxyCommand(this.paths.adminSocket, 'show info').catch(() => '')).includes('Pid:');
  }

  private async waitForAdmin(): Promise<void> {
    const deadline = this.clock.now() + READY_WAIT_MS;
    while (this.clock.now() < deadline) {
      const master = (await haproxyCommand(this.paths.masterSocket, 'show proc').catch(() => '')).includes('master');
      if (master && (await this.running())) return;
      await this.clock.sleep(50);
    }
    throw new SwitchyardError('RouteFailed', 'HAProxy started but its runtime API does not answer');
  }
}

function readSaved(path: string): Saved {
  try {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Partial<Saved>;
    if (!sameBoot(saved.boot, bootId())) return { routes: [], slots: {} };
    return { routes: saved.routes ?? [], slots: saved.slots ?? {} };
  } catch {
    return { routes: [], slots: {} };
  }
}

function firstAlert(e: unknown): string {
  const text = `${(e as { stderr?: string }).stderr ?? ''}${(e as { stdout?: string }).stdout ?? ''}` || (e as Error).message;
  return text.split('\n').find((l) => /ALERT|error/i.test(l))?.trim() ?? text.trim().split('\n')[0] ?? 'unknown error';
}

function writeAtomically(path: string, text: string, mode = 0o644): void {
  writeFileSync(`${path}.tmp`, text, { mode });
  renameSync(`${path}.tmp`, path);
}
