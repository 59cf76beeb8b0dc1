// Which color one request goes to. Pure, so every rule is a table test. In order:
//   1. the app's match rules (header or cookie with an exact value), first match wins;
//   2. preview: the preview header or cookie naming a color;
//   3. canary: a sticky cookie from an earlier choice, else a weighted draw;
//   4. the active color.
// "Explicit" choices (rules, preview) are what the client asked for; the others are the proxy's. Only a
// preview is strict: it gets that color or a 503. A rule or a canary whose color has no healthy target
// falls back to the active color.
import type { IncomingHttpHeaders } from 'node:http';
import { otherColor, type Color } from '../../core/app.js';
import { CANARY_COOKIE, type AppRoute } from '../../core/route.js';


export interface Choice {
  color: Color;
  explicit: boolean;
  /** No fallback to the active color when the chosen one has no healthy target (a preview). */
  strict?: boolean;
  /** A Set-Cookie value that pins the client to this color (sticky canary). */
  setCookie?: string;
}

export function chooseColor(route: Pick<AppRoute, 'color' | 'routing'>, headers: IncomingHttpHeaders, random: () => number): Choice {
  const routing = route.routing;
  if (!routing) return { color: route.color, explicit: false };
  const cookies = parseCookies(headers.cookie);
  for (const rule of routing.rules) {
    const value = rule.header !== undefined ? header(headers, rule.header) : cookies.get(rule.cookie!);
    if (value === rule.value) return { color: rule.color, explicit: true };
  }
  if (routing.preview) {
    const asked = (header(headers, routing.preview.header) ?? cookies.get(routing.preview.cookie))?.trim().toLowerCase();
    if (asked === 'blue' || asked === 'green') return { color: asked, explicit: true, strict: true };
  }
  const canary = routing.canary;
  if (canary && canary.weight > 0) {
    const pinned = canary.sticky ? cookies.get(CANARY_COOKIE) : undefined;
    if (pinned === 'blue' || pinned === 'green') return { color: pinned, explicit: false };
    const color = random() * 100 < canary.weight ? otherColor(route.color) : route.color;
    return { color, explicit: false, ...(canary.sticky ? { setCookie: `${CANARY_COOKIE}=${color}; Path=/; HttpOnly; SameSite=Lax` } : {}) };
  }
  return { color: route.color, explicit: false };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function parseCookies(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!text) return out;
  for (const part of text.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}
