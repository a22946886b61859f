import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: workflow suites share one Temporal dev server; keep file parallelism modest.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
