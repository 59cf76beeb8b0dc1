import { describe, expect, it } from 'vitest';
import type { RoutingSpec } from '../../src/core/app.js';
import { chooseColor } from '../../src/adapters/dataplane/choose-color.js';
import { CANARY_COOKIE } from '../../src/core/route.js';

const preview = { header: 'X-Switchyard-Color', cookie: 'switchyard-color' };
const route = (routing?: Partial<RoutingSpec>) => ({ color: 'blue' as const, ...(routing ? { routing: { rules: [], ...routing } } : {}) });

describe('chooseColor', () => {
  const cases: { name: string; routing?: Partial<RoutingSpec>; headers: Record<string, string>; random?: number; want: { color: string; explicit: boolean; strict?: boolean; setCookie?: unknown } }[] = [
    { name: 'no routing: always active', headers: { 'x-switchyard-color': 'green' }, want: { color: 'blue', explicit: false } },
    { name: 'preview header', routing: { preview }, headers: { 'x-switchyard-color': 'green' }, want: { color: 'green', explicit: true, strict: true } },
    { name: 'preview header, any case and spaces', routing: { preview }, headers: { 'x-switchyard-color': ' Green ' }, want: { color: 'green', explicit: true, strict: true } },
    { name: 'preview cookie', routing: { preview }, headers: { cookie: 'a=1; switchyard-color=green' }, want: { color: 'green', explicit: true, strict: true } },
    { name: 'preview with a value that is no color', routing: { preview }, headers: { 'x-switchyard-color': 'purple' }, want: { color: 'blue', explicit: false } },
    { name: 'custom preview header', routing: { preview: { header: 'X-Env', cookie: 'env' } }, headers: { 'x-env': 'green' }, want: { color: 'green', explicit: true, strict: true } },
    { name: 'header rule', routing: { rules: [{ header: 'X-Beta', value: '1', color: 'green' }] }, headers: { 'x-beta': '1' }, want: { color: 'green', explicit: true } },
    { name: 'header rule needs the exact value', routing: { rules: [{ header: 'X-Beta', value: '1', color: 'green' }] }, headers: { 'x-beta': '10' }, want: { color: 'blue', explicit: false } },
    { name: 'cookie rule', routing: { rules: [{ cookie: 'beta', value: 'yes', color: 'green' }] }, headers: { cookie: 'beta=yes' }, want: { color: 'green', explicit: true } },
    { name: 'rules come before preview', routing: { preview, rules: [{ header: 'X-Beta', value: '1', color: 'blue' }] }, headers: { 'x-beta': '1', 'x-switchyard-color': 'green' }, want: { color: 'blue', explicit: true } },
    { name: 'canary draw under the weight goes to the standby', routing: { canary: { weight: 10, sticky: true } }, headers: {}, random: 0.05, want: { color: 'green', explicit: false, setCookie: `${CANARY_COOKIE}=green; Path=/; HttpOnly; SameSite=Lax` } },
    { name: 'canary draw over the weight stays active', routing: { canary: { weight: 10, sticky: true } }, headers: {}, random: 0.5, want: { color: 'blue', explicit: false, setCookie: expect.stringContaining('=blue') } },
    { name: 'sticky canary cookie wins over the draw', routing: { canary: { weight: 10, sticky: true } }, headers: { cookie: `${CANARY_COOKIE}=green` }, random: 0.99, want: { color: 'green', explicit: false } },
    { name: 'non-sticky canary sets no cookie', routing: { canary: { weight: 50, sticky: false } }, headers: {}, random: 0.1, want: { color: 'green', explicit: false } },
    { name: 'weight 0 ignores a sticky cookie', routing: { canary: { weight: 0, sticky: true } }, headers: { cookie: `${CANARY_COOKIE}=green` }, want: { color: 'blue', explicit: false } },
  ];
  it.each(cases)('$name', ({ routing, headers, random, want }) => {
    expect(chooseColor(route(routing), headers, () => random ?? 0.5)).toEqual(want);
  });
});
