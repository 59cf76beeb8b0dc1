// Desired-state values for unit tests, with every optional field at its default.
import { DEFAULTS, type AppSpec, type ColorSpec, type EdgeSpec } from '../../src/core/app.js';

export function color(image: string, replicas: number, more: Partial<ColorSpec> = {}): ColorSpec {
  return { image, replicas, env: {}, envFiles: {}, resources: {}, volumes: [], labels: {}, privileged: false, network: 'bridge', capAdd: [], devices: [], ...more };
}

/** An app served on its own listen port only: no hosts, TLS, maintenance or limits. */
export const NO_EDGE: EdgeSpec = Object.freeze({ hosts: [], pathPrefix: '/', stripPrefix: false, limits: {} }) as EdgeSpec;

/** An app of two colors (img:1 blue, img:2 green, two replicas each) on port 9000, fast health checks: the executor's tests start from it. */
export function testApp(active: 'blue' | 'green', over: Partial<AppSpec> = {}): AppSpec {
  return {
    name: 'web', file: 'apps/web.yaml', listen: 9000, edge: NO_EDGE, port: 8080, drainTimeoutMs: 1000, active,
    health: { ...DEFAULTS.health, intervalMs: 100, healthyThreshold: 3, startTimeoutMs: 5000 },
    colors: { blue: color('img:1', 2), green: color('img:2', 2) },
    routing: { rules: [] },
    checks: [],
    workers: [],
    surge: 1,
    ...over,
  };
}
