// The functions that took the most CPU in a node --cpu-prof profile, optionally within a window of it
// (milliseconds from the profile's start): how the benches find what a hot path spends its time on.
//   tsx bench/profile-top.ts FILE.cpuprofile [--from MS --to MS] [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; startTime: number; samples: number[]; timeDeltas: number[] }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string', default: '25' } } });
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;
const from = Number(values.from ?? 0) * 1000;
const to = values.to === undefined ? Infinity : Number(values.to) * 1000;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const where = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|src|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;

const self = new Map<string, number>();
const total = new Map<string, number>();
let t = 0;
let inWindow = 0;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i] ?? 0;
  if (t < from || t > to) return;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  inWindow += dt;
  const node = byId.get(id)!;
  self.set(where(node), (self.get(where(node)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let n: Node | undefined = node; n; n = byId.get(parent.get(n.id) ?? -1)) {
    const key = where(n);
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + dt);
  }
});
const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)).map(([f, us]) => ({ ms: Math.round(us / 100) / 10, share: Math.round((us / inWindow) * 1000) / 10, f }));
console.log(JSON.stringify({ windowMs: Math.round(inWindow / 1000), self: top(self) }, null, 1));
console.log(JSON.stringify({ inclusive: top(total) }, null, 1));
