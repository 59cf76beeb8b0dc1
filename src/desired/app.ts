// The desired state of one app, after validation and defaults: what the rest of the agent works from.

export const COLORS = ['blue', 'green'] as const;
export type Color = (typeof COLORS)[number];

export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}

export interface HealthSpec {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  startTimeoutMs: number;
}

export interface ColorSpec {
  image: string;
  replicas: number;
  env: Record<string, string>;
}

export interface AppSpec {
  name: string;
  /** Where it came from, for messages: the file path in the repository. */
  file: string;
  listen: number;
  port: number;
  drainTimeoutMs: number;
  health: HealthSpec;
  colors: Record<Color, ColorSpec>;
  active: Color;
}

export interface DesiredState {
  commit: string;
  apps: AppSpec[];
}

export const DEFAULTS = {
  replicas: 1,
  drainTimeoutMs: 30_000,
  health: { path: '/', intervalMs: 1000, timeoutMs: 2000, healthyThreshold: 3, startTimeoutMs: 60_000 },
} as const;
