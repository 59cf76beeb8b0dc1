// The serial stage: tests that must have the machine to themselves, run after the others by
// scripts/test.sh. A second Docker engine shares the host's ephemeral port range and mount table with
// the first, so it runs only while no other test creates containers.
import { defineConfig } from 'vitest/config';
import { system } from './vitest.config.js';

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 1,
    include: ['test/serial/**/*.test.ts'],
    ...system,
  },
});
