import { defineConfig } from 'vitest/config';

// The suite runs on in-memory PGlite, and again on real PostgreSQL when TEST_DATABASE_URL is set.
const projects = [
  // The database behind a failing network is PostgreSQL's alone: the embedded database has no network.
  { extends: true as const, test: { name: 'pglite', env: { ISMS_TEST_DB: 'pglite' }, exclude: ['tests/db-faults.test.ts'] } },
  ...(process.env.TEST_DATABASE_URL
    ? [{
      extends: true as const,
      test: {
        name: 'postgres',
        env: { ISMS_TEST_DB: 'postgres' },
        // These never touch the register (or test the embedded database itself): once is enough.
        exclude: ['tests/config.test.ts', 'tests/prompts.test.ts', 'tests/slack-render.test.ts', 'tests/pglite-lock.test.ts', 'tests/entry-points.test.ts'],
      },
    }]
    : []),
];

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['tests/global-setup.ts'],
    // Runs before each test file: what a file sets up for its tests stays with that file.
    setupFiles: ['tests/setup-file.ts'],
    pool: 'forks',
    // A worker loads the bot's modules and starts PGlite once for all the files it runs, not once per file:
    // most of a file's time was the import. Files share the loaded modules and the embedded database, nothing
    // they write: each file's registers are dropped when it ends (tests/setup-file.ts).
    isolate: false,
    // Many tests wait on child processes and sockets rather than the CPU: more workers than cores pays.
    maxWorkers: 3,
    projects,
  },
});
