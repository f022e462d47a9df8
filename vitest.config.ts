import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Real servers, sockets and SQLite files: each test file in its own process.
    pool: 'forks',
    globalSetup: ['./test/global-services.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
