// One invocation, two projects: every integration test runs against the embedded PGlite and against
// the PostgreSQL server (TEST_DATABASE_URL). Unit tests run once (embedded project); Docker and
// multi-process end-to-end tests need a server database and run in the server project. The Swarm
// end-to-end tests share one two-node swarm (started by the project's global setup) and one of them
// kills its worker, so they run in a project of their own, one file at a time.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql must be one module instance: a second copy (ESM beside CJS) breaks `instanceof GraphQLError`
  // and turns typed errors into HTTP 500s.
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'embedded',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          env: { TEST_DB_MODE: 'embedded' },
        },
      },
      {
        extends: true,
        test: {
          name: 'server',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/swarm-*.test.ts'],
          env: { TEST_DB_MODE: 'server' },
        },
      },
      {
        // Fault injection (issue 11): killed servers, a restarted or hung PostgreSQL, a hung or
        // restarted Docker daemon, two deployments on one daemon. Real PostgreSQL and real Docker.
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          env: { TEST_DB_MODE: 'server' },
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'swarm',
          include: ['test/e2e/swarm-*.test.ts'],
          env: { TEST_DB_MODE: 'server' },
          fileParallelism: false,
          globalSetup: ['test/support/swarm-global-setup.ts'],
        },
      },
    ],
  },
});
