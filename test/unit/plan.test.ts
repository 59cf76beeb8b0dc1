import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AppSpec, Color } from '../../src/core/app.js';
import { DEFAULTS } from '../../src/core/app.js';
import { describe as describePlan, desiredRoute, isNoop, plan } from '../../src/plan/plan.js';
import { specHash } from '../../src/plan/target-spec.js';
import { planReport, renderPlan } from '../../src/commands/plan-report.js';
import { decide, type Guards } from '../../src/reconciler/steps/decide.js';
import { SwitchyardError } from '../../src/core/errors.js';
import { color, testApp } from '../support/specs.js';
import type { AppRoute } from '../../src/core/route.js';
import type { LiveTarget } from '../../src/core/target.js';

const app = (over: Partial<AppSpec> = {}): AppSpec => testApp('blue', { health: { ...DEFAULTS.health }, ...over });
let seq = 0;
const live = (a: AppSpec, color: Color, replica: number, over: Partial<LiveTarget> = {}): LiveTarget => ({
  id: `${color}${replica}-${++seq}`, name: `n${seq}`, app: a.name, color, replica, specHash: specHash(a, color), commit: 'c0',
  running: true, state: 'running', address: { host: '127.0.0.1', port: 30000 + seq }, ...over,
});
const routeOf = (a: AppSpec, targets: LiveTarget[], color: Color = 'blue'): AppRoute =>
  desiredRoute({ ...a, active: color }, { blue: targets.filter((t) => t.color === 'blue'), green: targets.filter((t) => t.color === 'green') }, AT);
const desired = (...apps: AppSpec[]) => ({ commit: 'c1', apps });
const NOW = 1_000_000_000;
const AT = { listenHost: '127.0.0.1' };

describe('plan', () => {
  it('creates both colors and routes the active one on an empty host', () => {
    const a = app();
    const [p] = plan(desired(a), { targets: [], routes: [] }, AT, NOW).apps;
    expect(p!.create.map((s) => `${s.color}${s.replica}`)).toEqual(['blue0', 'blue1', 'green0', 'green1']);
    expect(p!.routeChange).toBe(true);
    expect(describePlan(p!)).toEqual(['route blue on port 9000', 'create 2 blue target(s) (img:1)', 'create 2 green target(s) (img:2)']);
  });

  it('does nothing when the host matches', () => {
    const a = app();
    const targets = [live(a, 'blue', 0), live(a, 'blue', 1), live(a, 'green', 0), live(a, 'green', 1)];
    const [p] = plan(desired(a), { targets, routes: [routeOf(a, targets.slice(0, 2))] }, AT, NOW).apps;
    expect(isNoop(p!)).toBe(true);
  });

  it('flips by route alone when the other color is already warm', () => {
    const a = app({ active: 'green' });
    const targets = [live(a, 'blue', 0), live(a, 'blue', 1), live(a, 'green', 0), live(a, 'green', 1)];
    const [p] = plan(desired(a), { targets, routes: [routeOf(a, targets.slice(0, 2), 'blue')] }, AT, NOW).apps;
    expect(p).toMatchObject({ create: [], remove: [], retire: [], routeChange: true });
    expect(p!.keep.blue).toHaveLength(2);
    expect(describePlan(p!)).toEqual(['flip blue -> green']);
  });

  it('replaces a changed active color beside the old one and retires the old only after the switch', () => {
    const old = app();
    const targets = [live(old, 'blue', 0), live(old, 'blue', 1), live(old, 'green', 0), live(old, 'green', 1)];
    const bumped = app({ colors: { ...old.colors, blue: color('img:1.1', 2) } });
    const [p] = plan(desired(bumped), { targets, routes: [routeOf(old, targets.slice(0, 2))] }, AT, NOW).apps;
    expect(p!.create.map((s) => `${s.color}${s.replica}`)).toEqual(['blue0', 'blue1']);
    expect(p!.retire.map((t) => t.id)).toEqual([targets[0]!.id, targets[1]!.id]);
    expect(p!.remove).toEqual([]);
  });

  it('removes a stopped target and extra replicas at once when they take no traffic', () => {
    const a = app({ colors: { blue: color('img:1', 1), green: color('img:2', 1) } });
    const b0 = live(a, 'blue', 0);
    const stopped = live(a, 'green', 0, { running: false, state: 'exited' });
    const extra = live(a, 'green', 1);
    const [p] = plan(desired(a), { targets: [b0, stopped, extra], routes: [routeOf(a, [b0])] }, AT, NOW).apps;
    expect(p!.remove.map((t) => t.id).sort()).toEqual([stopped.id, extra.id].sort());
    expect(p!.create.map((s) => `${s.color}${s.replica}`)).toEqual(['green0']);
    expect(p!.routeChange).toBe(false);
  });

  it('lets a target Docker is restarting hold its replica: no replacement, and out of the route', () => {
    const a = app({ colors: { blue: color('img:1', 2), green: color('img:2', 0) } });
    const b0 = live(a, 'blue', 0);
    const b1 = live(a, 'blue', 1);
    const looping = { ...b1, running: false, state: 'restarting' } as LiveTarget;
    delete looping.address;
    const [p] = plan(desired(a), { targets: [b0, looping], routes: [routeOf(a, [b0, b1])] }, AT, NOW).apps;
    expect(p).toMatchObject({ create: [], remove: [], retire: [], routeChange: true });
    expect(p!.restarting.map((t) => t.id)).toEqual([b1.id]);
    expect(desiredRoute(a, p!.keep, AT).targets.map((t) => t.id)).toEqual([b0.id]);
    expect(describePlan(p!)).toEqual(['update blue route', 'take 1 crash-looping target(s) out of the route (Docker restarts them)']);
  });

  it('replaces a target its image HEALTHCHECK calls unhealthy (Docker does not restart those)', () => {
    const a = app({ colors: { blue: color('img:1', 2), green: color('img:2', 0) } });
    const b0 = live(a, 'blue', 0);
    const sick = live(a, 'blue', 1, { health: 'unhealthy' });
    const [p] = plan(desired(a), { targets: [b0, sick], routes: [routeOf(a, [b0, sick])] }, AT, NOW).apps;
    expect(p!.retire.map((t) => t.id)).toEqual([sick.id]);
    expect(p!.create.map((s) => `${s.color}${s.replica}`)).toEqual(['blue1']);
    expect(p!.restarting).toEqual([]);
  });

  it('keeps one target per replica index, preferring the routed one', () => {
    const a = app({ colors: { blue: color('img:1', 1), green: color('img:2', 0) } });
    const unrouted = live(a, 'blue', 0);
    const routed = live(a, 'blue', 0);
    const [p] = plan(desired(a), { targets: [unrouted, routed], routes: [routeOf(a, [routed])] }, AT, NOW).apps;
    expect(p!.keep.blue.map((t) => t.id)).toEqual([routed.id]);
    expect(p!.remove.map((t) => t.id)).toEqual([unrouted.id]);
  });

  it('re-routes when a kept target moved to another host port', () => {
    const a = app({ colors: { blue: color('img:1', 1), green: color('img:2', 0) } });
    const b0 = live(a, 'blue', 0);
    const before = routeOf(a, [{ ...b0, address: { host: '127.0.0.1', port: 1 } }]);
    const [p] = plan(desired(a), { targets: [b0], routes: [before] }, AT, NOW).apps;
    expect(p).toMatchObject({ create: [], routeChange: true });
  });

  it('keeps the hash of a spec that uses no newer field as it was before they existed', () => {
    const a = app({ colors: { blue: color('img:1', 2, { env: { A: '1' } }), green: color('img:2', 1) } });
    // The walking skeleton's hash of { image, env, port }: containers it started must not be replaced.
    expect(specHash(a, 'blue')).toBe(createHash('sha256').update(JSON.stringify({ image: 'img:1', env: [['A', '1']], port: 8080 })).digest('hex').slice(0, 16));
    expect(specHash({ ...a, colors: { ...a.colors, blue: { ...a.colors.blue, command: ['/x'] } } }, 'blue')).not.toBe(specHash(a, 'blue'));
  });

  it('changes the spec hash for image, env and port, not for replicas or health', () => {
    const a = app();
    const h = specHash(a, 'blue');
    expect(specHash({ ...a, port: 81 }, 'blue')).not.toBe(h);
    expect(specHash({ ...a, colors: { ...a.colors, blue: { ...a.colors.blue, env: { A: '1' } } } }, 'blue')).not.toBe(h);
    expect(specHash({ ...a, colors: { ...a.colors, blue: { ...a.colors.blue, replicas: 5 } } }, 'blue')).toBe(h);
    expect(specHash({ ...a, health: { ...a.health, path: '/x' } }, 'blue')).toBe(h);
  });

  it('routes the standby too, with the routing table, only when the app asks for preview, canary or rules', () => {
    const plain = app();
    const targets = [live(plain, 'blue', 0), live(plain, 'green', 0)];
    const both = { blue: [targets[0]!], green: [targets[1]!] };
    expect(desiredRoute(plain, both, AT).targets.map((t) => t.color)).toEqual(['blue']);
    const withPreview = app({ routing: { preview: { header: 'X-Switchyard-Color', cookie: 'switchyard-color' }, rules: [] } });
    const route = desiredRoute(withPreview, both, AT);
    expect(route.targets.map((t) => t.color)).toEqual(['blue', 'green']);
    expect(route.routing?.preview?.header).toBe('X-Switchyard-Color');
    expect(desiredRoute(app({ routing: { canary: { weight: 0, sticky: true }, rules: [] } }), both, AT).targets).toHaveLength(1);
  });

  it('treats a new standby target as a route change when the standby takes traffic', () => {
    const a = app({ routing: { rules: [{ header: 'X-Beta', value: '1', color: 'green' }] }, colors: { blue: color('img:1', 1), green: color('img:2', 1) } });
    const b0 = live(a, 'blue', 0);
    const [p] = plan(desired(a), { targets: [b0], routes: [routeOf(a, [b0])] }, AT, NOW).apps;
    expect(p!.create.map((s) => s.color)).toEqual(['green']);
    expect(p!.routeChange).toBe(true);
  });

  it('scales the standby down once scaleDownDelay has passed since the flip, and never while it takes traffic', () => {
    const a = app({ scaleDownDelayMs: 60_000 });
    const targets = [live(a, 'blue', 0), live(a, 'blue', 1), live(a, 'green', 0), live(a, 'green', 1)];
    const route = (since: number, over: Partial<AppSpec> = {}) => ({ ...routeOf({ ...a, ...over }, targets.slice(0, 2)), since });
    const [kept] = plan(desired(a), { targets, routes: [route(NOW - 59_999)] }, AT, NOW).apps;
    expect(isNoop(kept!)).toBe(true);
    const [down] = plan(desired(a), { targets, routes: [route(NOW - 60_000)] }, AT, NOW).apps;
    expect(down!.remove.map((t) => t.color)).toEqual(['green', 'green']);
    expect(down!.create).toEqual([]);
    expect(describePlan(down!)).toEqual(['scale down green: 2 target(s) (scaleDownDelay is over)']);
    const forever = app();
    expect(isNoop(plan(desired(forever), { targets, routes: [route(0)] }, AT, NOW).apps[0]!)).toBe(true);
    const preview = app({ scaleDownDelayMs: 60_000, routing: { preview: { header: 'X-Switchyard-Color', cookie: 'switchyard-color' }, rules: [] } });
    const withPreview = { ...routeOf(preview, targets), since: 0 };
    expect(plan(desired(preview), { targets, routes: [withPreview] }, AT, NOW).apps[0]!.remove).toEqual([]);
  });

  it('brings a scaled-down color back (to be gated) when a rollback makes it active', () => {
    const a = app({ scaleDownDelayMs: 60_000, active: 'green' });
    const blue = [live(a, 'blue', 0), live(a, 'blue', 1)];
    const [p] = plan(desired(a), { targets: blue, routes: [{ ...routeOf(a, blue, 'blue'), since: 0 }] }, AT, NOW).apps;
    expect(p!.create.map((s) => `${s.color}${s.replica}`)).toEqual(['green0', 'green1']);
    expect(p!.remove).toEqual([]);
    expect(p!.routeChange).toBe(true);
  });

  it('lists apps that left the repository for pruning', () => {
    const a = app();
    const gone = { ...live(a, 'blue', 0), app: 'old' };
    const p = plan(desired(a), { targets: [gone], routes: [{ ...routeOf(a, [gone]), app: 'old', drainTimeoutMs: 7000 }] }, AT, NOW);
    expect(p.prune).toEqual([{ app: 'old', targets: [gone], routed: true, drainTimeoutMs: 7000 }]);
  });

  it('renders one action per app, and the apps to prune (golden)', () => {
    const a = (name: string, active: Color = 'blue') => app({ name, active, colors: { blue: color(`${name}:1`, 1), green: color(`${name}:2`, 1) } });
    const steady = a('steady');
    const steadyLive = [live(steady, 'blue', 0), live(steady, 'green', 0)];
    const flip = a('flipper', 'green');
    const flipLive = [live(flip, 'blue', 0), live(flip, 'green', 0)];
    const bumped = app({ name: 'bumped', colors: { blue: color('bumped:1.1', 1), green: color('bumped:2', 1) } });
    const bumpedLive = [live(a('bumped'), 'blue', 0), live(a('bumped'), 'green', 0)];
    const fresh = a('fresh');
    const gone = { ...live(steady, 'blue', 0), app: 'gone' };
    const p = decide(
      { commit: '0123456789abcdef0123456789abcdef01234567', apps: [steady, flip, bumped, fresh] },
      {
        targets: [...steadyLive, ...flipLive, ...bumpedLive, gone],
        routes: [routeOf(steady, steadyLive.slice(0, 1)), routeOf(flip, flipLive.slice(0, 1), 'blue'), routeOf(a('bumped'), bumpedLive.slice(0, 1)), { ...routeOf(steady, [gone]), app: 'gone' }],
      },
      NO_GUARDS,
      AT,
      NOW,
    );
    expect(renderPlan(planReport(p), 'https://git.example.com/desired.git@main')).toBe(
      [
        'plan for 0123456789ab (https://git.example.com/desired.git@main):',
        '  steady   no change',
        '  flipper  flip: flip blue -> green',
        '  bumped   replace: update blue route; create 1 blue target(s) (bumped:1.1); retire 1 routed target(s) after the switch',
        '  fresh    create: route blue on port 9000; create 1 blue target(s) (fresh:1); create 1 green target(s) (fresh:2)',
        '  gone     remove: gone from the repository; stop serving it, remove 1 target(s)',
        '4 app(s) would change. Nothing was changed.',
        '',
      ].join('\n'),
    );
  });

  it('shows what the agent will not touch: a suspended app, a failed commit, an unreadable env file, and no prune on an empty commit', () => {
    const a = (name: string) => app({ name, colors: { blue: color(`${name}:1`, 1), green: color(`${name}:2`, 1) } });
    const [paused, broken, secret] = [a('paused'), a('broken'), a('secret')];
    const commit = '0123456789abcdef0123456789abcdef01234567';
    const guards: Guards = {
      suspended: new Set(['paused']),
      failed: new Map([['broken', { commit, reason: 'HealthCheckFailed' as const, message: 'green is not healthy: HTTP 404 on /healthz' }]]),
      unreadable: new Map([['secret', [new SwitchyardError('SecretUnavailable', 'cannot read /etc/switchyard/secrets/db for DB: ENOENT', { location: { file: 'apps/secret.yaml', field: 'colors.blue.env.DB' } })]]]),
    };
    const report = planReport(decide({ commit, apps: [paused, broken, secret] }, { targets: [], routes: [] }, guards, AT, NOW));
    expect(report.changes).toBe(false);
    expect(report.apps.map((x) => [x.app, x.action])).toEqual([['paused', 'suspended'], ['broken', 'held'], ['secret', 'held']]);
    expect(report.apps[1]!.changes[0]).toMatch(/^commit 0123456789ab failed for this app \(HealthCheckFailed: green is not healthy: HTTP 404 on \/healthz\) and is not retried/);
    expect(report.apps[2]!.changes[0]).toMatch(/SecretUnavailable.*apps\/secret\.yaml colors\.blue\.env\.DB/);

    const gone = { ...live(a('gone'), 'blue', 0), app: 'gone' };
    const empty = planReport(decide({ commit, apps: [] }, { targets: [gone], routes: [] }, NO_GUARDS, AT, NOW));
    expect(empty).toMatchObject({ changes: false, prune: [], notPruned: ['gone'] });
    expect(renderPlan(empty, 'repo@main')).toMatch(/not pruned: gone \(the commit has no apps: the agent never prunes everything\)\nNo changes\.\n$/);
    // The same host with an app left: the orphan is pruned.
    expect(planReport(decide({ commit, apps: [paused] }, { targets: [gone], routes: [] }, NO_GUARDS, AT, NOW)).prune).toEqual([{ app: 'gone', targets: 1, routed: false }]);
  });
});

const NO_GUARDS: Guards = { suspended: new Set(), unreadable: new Map(), failed: new Map() };
