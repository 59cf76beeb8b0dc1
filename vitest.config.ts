import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run alone, after everything else (vitest.serial.config.ts).
    exclude: ['test/serial/**', 'node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Real Docker and real processes: generous limits; tests wait on conditions, never on the clock.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
