import { defineConfig } from 'vitest/config';

// `npm run test:cluster`: suites against the real engines (NATS JetStream, PostgreSQL,
// Redis) and several hub processes. `.ci/run` starts the engines first.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.cluster.test.ts', 'packages/*/test/**/*.cluster.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // As `portico start` runs the hub (cli/start-command.ts).
    execArgv: ['--enable-experimental-regexp-engine-on-excessive-backtracks'],
    fileParallelism: false,
  },
});
