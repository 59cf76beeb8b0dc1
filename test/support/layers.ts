// Reads src/'s relative imports (type-only ones too: they couple files just the same) and judges them
// against the layer rule of docs/ARCHITECTURE.md.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * What each layer may import besides itself. `adapters/X` may import the core and its own folder only:
 * a runtime or data plane never leans on another one or on the reconcile logic.
 */
export const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  policy: ['core'],
  desired: ['core', 'policy'],
  plan: ['core'],
  health: ['core'],
  executor: ['core', 'plan', 'health'],
  reconciler: ['core', 'desired', 'policy', 'plan', 'health', 'executor'],
  adapters: ['core'],
  api: ['core'],
  config: ['core', 'policy'],
  commands: ['core', 'desired', 'policy', 'plan', 'health', 'executor', 'reconciler', 'adapters', 'api', 'config', 'commands'],
};

/** `core`, `adapters/docker`, ... for a path like `src/core/app.ts`; `commands` for src/cli.ts. */
export function layerOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts.length === 2 && parts[1] === 'cli.ts') return 'commands';
  const top = parts[1];
  if (!top || !(top in ALLOWED)) return undefined;
  return top === 'adapters' && parts.length > 3 ? `adapters/${parts[2]}` : top;
}

export function importGraph(dir: string): Map<string, string[]> {
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
  const graph = new Map<string, string[]>();
  for (const file of walk(dir)) {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/(?:from\s+|import\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
    graph.set(file, specs.map((s) => relative('.', resolve(dirname(file), s.replace(/\.js$/, '.ts')))));
  }
  return graph;
}

export function layerProblems(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const problems: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    if (!from) continue;
    for (const target of imports) {
      const to = layerOf(target);
      if (!to || to === from) continue;
      const base = from.split('/')[0]!;
      const ok = ALLOWED[base]!.includes(to) || (base === 'commands' && to.startsWith('adapters/'));
      if (!ok) problems.push(`${file} (${from}) imports ${target} (${to})`);
    }
  }
  return problems;
}

/** Each cycle once, as the files on it. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'open') found.push(stack.slice(stack.indexOf(g)));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return found;
}
