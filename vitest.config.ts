import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e files share one PostgreSQL server and one Redis; each file uses its own database / key prefix,
    // so files may run in parallel, but keep it modest on a 2-core machine.
    maxWorkers: 2,
  },
});
