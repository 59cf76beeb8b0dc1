// How long the loader (YAML, schema, policy) takes on adversarial app files of the maximum size (256 KiB),
// since it runs on the agent's loop: one JSON line per case. Target: none over about a second.
import { loadDesired } from '../src/desired/load.js';

const MAX = 256 * 1024;
const cases: Record<string, string> = {
  'nested flow sequences': `name: web\nx: ${'['.repeat(60_000)}${']'.repeat(60_000)}\n`,
  'nested flow maps': `name: web\nx: ${'{a: '.repeat(40_000)}1${'}'.repeat(40_000)}\n`,
  'nested block maps': `name: web\n${Array.from({ length: 700 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`,
  'twenty thousand keys': `name: web\n${Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`).join('\n')}\n`,
  'twenty thousand duplicate keys': `name: web\n${Array.from({ length: 20_000 }, () => 'k: 1').join('\n')}\n`,
};
for (const [name, text] of Object.entries(cases)) {
  const content = new TextEncoder().encode(text.slice(0, MAX));
  const runs: number[] = [];
  let errors = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = loadDesired('bench', [{ path: 'apps/web.yaml', content }]);
    runs.push(performance.now() - t);
    errors = r.ok ? 0 : r.errors.length;
  }
  console.log(JSON.stringify({ bench: 'load', case: name, bytes: content.length, errors, maxMs: Math.round(Math.max(...runs)), minMs: Math.round(Math.min(...runs)) }));
}
