/**
 * For store contract suites on the real PostgreSQL (127.0.0.1:5432, trust auth; override with
 * PORTICO_TEST_POSTGRES): a fresh database for the test file, dropped after it, and a fresh
 * schema for every store opened in it, so suites and runs never see each other's rows.
 */
import { afterAll, beforeAll } from 'vitest';
import {
  createTestDatabase,
  pgAdmin,
  type TestDatabase,
} from '../../../../test/cluster/engines.ts';
import type { SqlDatabase } from '../../sql-database.ts';
import { openPostgresDatabase } from '../postgres-database.ts';

/** Call at a test file's top level; `open()` gives a store on a schema of its own. */
export function useScratchPostgres(label: string): {
  open(options?: { poolSize?: number }): Promise<SqlDatabase>;
} {
  let database: TestDatabase;
  let schemas = 0;
  beforeAll(async () => {
    database = await createTestDatabase(label);
  });
  afterAll(() => database?.drop());
  return {
    async open(options = {}) {
      const schema = `s${++schemas}`;
      await pgAdmin((client) => client.query(`create schema ${schema}`), database.name);
      return openPostgresDatabase(
        `${database.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
        { poolSize: options.poolSize ?? 4 },
      );
    },
  };
}
