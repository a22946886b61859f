import { defineConfig } from 'vitest/config';

// The production topology under faults (`npm run test:topology`): a real Temporal server over PostgreSQL, API replicas
// and split workers as child processes. One file at a time: the files stop and start shared servers.
export default defineConfig({
  test: {
    include: ['test/topology/**/*.test.ts'],
    globalSetup: ['test/topology/support/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
