// Adds up what several proxy workers count for the same apps, so that a proxy of N workers reports one
// set of counters, as one process would: totals add, the last hit is the latest, a target out of rotation
// in any worker is reported.
import { COLORS, type Color } from '../../core/app.js';
import type { ColorCounters, LatencyHistogram, Traffic } from '../../core/route.js';

type AppCounters = Partial<Record<Color, ColorCounters>>;

export function sumTraffic(parts: readonly Traffic[]): Traffic {
  const apps = new Set(parts.flatMap((p) => Object.keys(p)));
  return Object.fromEntries([...apps].map((app) => [app, sumCounters(parts.flatMap((p) => p[app] ?? []))]));
}

export function sumCounters(parts: readonly AppCounters[]): AppCounters {
  const out: AppCounters = {};
  for (const color of COLORS) {
    const seen = parts.flatMap((p) => p[color] ?? []);
    if (seen.length) out[color] = seen.reduce(addColor);
  }
  return out;
}

function addColor(a: ColorCounters, b: ColorCounters): ColorCounters {
  const sum: ColorCounters = { requests: a.requests + b.requests, errors5xx: a.errors5xx + b.errors5xx, inFlight: a.inFlight + b.inFlight };
  for (const k of ['tooLarge', 'timedOut', 'tunnels'] as const) {
    if (a[k] !== undefined || b[k] !== undefined) sum[k] = (a[k] ?? 0) + (b[k] ?? 0);
  }
  const lastHit = Math.max(a.lastHit ?? -Infinity, b.lastHit ?? -Infinity);
  if (lastHit > -Infinity) sum.lastHit = lastHit;
  const latency = a.latency && b.latency ? addHistogram(a.latency, b.latency) : (a.latency ?? b.latency);
  if (latency) sum.latency = latency;
  const ejected = [...new Set([...(a.ejected ?? []), ...(b.ejected ?? [])])];
  if (ejected.length) sum.ejected = ejected;
  return sum;
}

/** Both use LATENCY_BUCKETS_MS: every worker runs the same code. */
function addHistogram(a: LatencyHistogram, b: LatencyHistogram): LatencyHistogram {
  return { bucketsMs: a.bucketsMs, counts: a.counts.map((n, i) => n + (b.counts[i] ?? 0)), count: a.count + b.count, sumMs: a.sumMs + b.sumMs };
}
