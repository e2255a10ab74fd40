import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['apps/*/src/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    // Integration tests share one Docker engine and two cores: running files one at a time keeps timings honest.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    setupFiles: ['packages/testing/src/load-services-env.ts'],
  },
});
