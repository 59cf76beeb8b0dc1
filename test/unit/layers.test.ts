// The import rule, checked on the real tree: every relative import in src/ points at the same layer or
// one it may use (docs/ARCHITECTURE.md), and no file imports itself back through others.
import { describe, expect, it } from 'vitest';
import { importGraph, layerOf, layerProblems, cycles, ALLOWED } from '../support/layers.js';

describe('layers', () => {
  const graph = importGraph('src');

  it('knows the layer of every file under src/', () => {
    const unknown = [...graph.keys()].filter((f) => !layerOf(f));
    expect(unknown).toEqual([]);
  });

  it('has no import that points up a layer or across adapters', () => {
    expect(layerProblems(graph)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('fails on an upward import and on a cycle (the checks can fail)', () => {
    const bad = new Map(graph);
    bad.set('src/core/app.ts', [...(graph.get('src/core/app.ts') ?? []), 'src/reconciler/agent.ts']);
    bad.set('src/plan/plan.ts', [...(graph.get('src/plan/plan.ts') ?? []), 'src/plan/render.ts']);
    bad.set('src/plan/render.ts', [...(graph.get('src/plan/render.ts') ?? []), 'src/plan/plan.ts']);
    expect(layerProblems(bad)).toContain('src/core/app.ts (core) imports src/reconciler/agent.ts (reconciler)');
    expect(cycles(bad)).toContainEqual(expect.arrayContaining(['src/plan/plan.ts', 'src/plan/render.ts']));
    // Adapters build on the core only, never on each other or on the steps.
    bad.set('src/adapters/haproxy/config.ts', ['src/adapters/dataplane/choose-color.ts']);
    expect(layerProblems(bad)).toContain('src/adapters/haproxy/config.ts (adapters/haproxy) imports src/adapters/dataplane/choose-color.ts (adapters/dataplane)');
  });

  it('names a rule for every layer', () => {
    expect(Object.keys(ALLOWED).sort()).toEqual(['adapters', 'api', 'commands', 'config', 'core', 'desired', 'executor', 'health', 'plan', 'policy', 'reconciler']);
  });
});
