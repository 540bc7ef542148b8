/**
 * vitest globalSetup of `npm test`: says, at the end of the run, that the cluster suites
 * (real NATS JetStream + PostgreSQL, several hub processes) were not run here and how to
 * run them, so a green `npm test` is never taken for a green cluster suite.
 */
import { globSync } from 'node:fs';

export default function setup(): () => void {
  return () => {
    const files = globSync(
      ['packages/*/src/**/*.cluster.test.ts', 'packages/*/test/**/*.cluster.test.ts'],
      {
        exclude: (name) => name === 'node_modules',
      },
    );
    process.stdout.write(
      `\n  NOT RUN: ${files.length} cluster suite file(s) (*.cluster.test.ts) need NATS JetStream and PostgreSQL;` +
        ' they are excluded from `npm test`. Run them with `npm run test:cluster`.\n\n',
    );
  };
}
