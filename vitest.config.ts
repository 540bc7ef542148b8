import { defineConfig } from 'vitest/config';

// `npm test`: the fast suites. The cluster suites (NATS + PostgreSQL + several hub
// processes) run with `npm run test:cluster`, see vitest.cluster.config.ts.
export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/*.cluster.test.ts'],
    // Prints that the cluster suites were not run (and how to run them) at the end.
    globalSetup: ['packages/hub/test/cluster-suite-notice.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // As `portico start` runs the hub (cli/start-command.ts): a regex that backtracks
    // catastrophically falls back to V8's linear-time engine.
    execArgv: ['--enable-experimental-regexp-engine-on-excessive-backtracks'],
  },
});
