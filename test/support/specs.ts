// Desired-state values for unit tests, with every optional field at its default.
import type { ColorSpec } from '../../src/core/app.js';

export function color(image: string, replicas: number, more: Partial<ColorSpec> = {}): ColorSpec {
  return { image, replicas, env: {}, envFiles: {}, resources: {}, volumes: [], labels: {}, privileged: false, network: 'bridge', capAdd: [], devices: [], ...more };
}
