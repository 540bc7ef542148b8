/**
 * For store contract suites on the real PostgreSQL (127.0.0.1:5432, trust auth; override with
 * PORTICO_TEST_POSTGRES): a fresh database for the test file, dropped after it, and a fresh
 * schema for every store opened in it, so suites and runs never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { SqlDatabase } from '../../sql-database.ts';
import { openPostgresDatabase } from '../postgres-database.ts';

const SERVER = process.env.PORTICO_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

async function admin(sql: string, url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Call at a test file's top level; `open()` gives a store on a schema of its own. */
export function useScratchPostgres(label: string): {
  open(options?: { poolSize?: number }): Promise<SqlDatabase>;
} {
  const database = `portico_${label}_${randomBytes(4).toString('hex')}`;
  let schemas = 0;
  beforeAll(() => admin(`create database ${database}`, `${SERVER}/postgres`));
  afterAll(() => admin(`drop database if exists ${database} with (force)`, `${SERVER}/postgres`));
  return {
    async open(options = {}) {
      const schema = `s${++schemas}`;
      await admin(`create schema ${schema}`, `${SERVER}/${database}`);
      return openPostgresDatabase(
        `${SERVER}/${database}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
        { poolSize: options.poolSize ?? 4 },
      );
    },
  };
}
