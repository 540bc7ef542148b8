/** Stream tickets on PostgreSQL (127.0.0.1:5432, trust auth): a fresh database per run. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openPostgresDatabase } from '../store/postgres/postgres-database.ts';
import { describeTicketStoreContract } from './ticket-store.contract.ts';

const SERVER = process.env.PORTICO_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const database = `portico_tickets_${randomBytes(4).toString('hex')}`;
let schemas = 0;

async function admin(sql: string, url = `${SERVER}/postgres`): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(() => admin(`create database ${database}`));
afterAll(() => admin(`drop database if exists ${database} with (force)`));

describeTicketStoreContract('postgres', async () => {
  const schema = `s${++schemas}`;
  await admin(`create schema ${schema}`, `${SERVER}/${database}`);
  // Several pooled connections, so concurrent issues and redemptions really race.
  return openPostgresDatabase(
    `${SERVER}/${database}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    { poolSize: 6 },
  );
});
