import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The topology suite has its own config and command (npm run test:topology).
    exclude: ['test/topology/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: workflow suites share one Temporal dev server; keep file parallelism modest.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
