import { defineConfig } from 'vitest/config';

// Two projects: unit tests of the logic (fakes, no Docker, no build), and the system tests on the real
// engine, git, proxies and the built CLI, whose global setup builds dist/ once and the test images.
export const system = {
  globalSetup: ['test/support/global-setup.ts'],
  // Real Docker and real processes: generous limits; tests wait on conditions, never on the clock.
  testTimeout: 120_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // Run alone, after everything else: vitest.serial.config.ts.
      { test: { name: 'system', include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'], ...system } },
    ],
  },
});
