// Desired-state values for unit tests, with every optional field at its default.
import type { ColorSpec, EdgeSpec } from '../../src/core/app.js';

export function color(image: string, replicas: number, more: Partial<ColorSpec> = {}): ColorSpec {
  return { image, replicas, env: {}, envFiles: {}, resources: {}, volumes: [], labels: {}, privileged: false, network: 'bridge', capAdd: [], devices: [], ...more };
}

/** An app served on its own listen port only: no hosts, TLS, maintenance or limits. */
export const NO_EDGE: EdgeSpec = Object.freeze({ hosts: [], pathPrefix: '/', stripPrefix: false, limits: {} }) as EdgeSpec;
