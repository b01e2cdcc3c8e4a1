import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real processes, real files, tmux: keep parallelism modest on a 2-core machine.
    maxWorkers: 2,
    pool: 'forks',
  },
});
