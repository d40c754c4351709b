import { defineConfig } from 'vitest/config';

// The suite runs on in-memory PGlite, and again on real PostgreSQL when TEST_DATABASE_URL is set.
// The 50 MB evidence round trip runs on one database: PostgreSQL when it is there (always in CI),
// where it takes about 15 s. On PGlite it takes about 90 s and 1.8 GB, nearly all of it PGlite's own
// bytea parameter encoding; what the test proves is the platforms' paths, and the register's file
// storage on PGlite is covered by the smaller file tests (slack, teams-http, evidence-show).
const roundTripOnPostgres = process.env.TEST_DATABASE_URL ? ['tests/evidence-roundtrip.test.ts'] : [];

const projects = [
  { extends: true as const, test: { name: 'pglite', env: { ISMS_TEST_DB: 'pglite' }, exclude: roundTripOnPostgres } },
  ...(process.env.TEST_DATABASE_URL
    ? [{
      extends: true as const,
      test: {
        name: 'postgres',
        env: { ISMS_TEST_DB: 'postgres' },
        // These never touch the register (or test the embedded database itself): once is enough.
        exclude: ['tests/config.test.ts', 'tests/slack-render.test.ts', 'tests/pglite-lock.test.ts'],
      },
    }]
    : []),
];

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Many tests wait on child processes and sockets rather than the CPU: more workers than cores pays.
    maxWorkers: 3,
    projects,
  },
});
