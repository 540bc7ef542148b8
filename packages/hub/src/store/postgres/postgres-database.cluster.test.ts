import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSqlDatabaseContract } from '../sql-database.contract.ts';
import type { SqlDatabase } from '../sql-database.ts';
import { StoreUnavailableError } from '../store-unavailable-error.ts';
import { openPostgresDatabase } from './postgres-database.ts';

// PostgreSQL at 127.0.0.1:5432 (trust auth). One fresh database per run, a fresh schema
// per opened store; the database is dropped at the end.
const SERVER = process.env.PORTICO_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const database = `portico_store_${randomBytes(4).toString('hex')}`;
const url = `${SERVER}/${database}`;
let schemas = 0;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await admin((c) => c.query(`create database ${database}`));
});

afterAll(async () => {
  await admin((c) => c.query(`drop database if exists ${database} with (force)`));
});

/** A store whose tables live in a schema of their own (search_path set per connection). */
async function openFresh(
  options: Parameters<typeof openPostgresDatabase>[1] = {},
): Promise<SqlDatabase> {
  const schema = `s${++schemas}`;
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query(`create schema ${schema}`);
  await setup.end();
  return openPostgresDatabase(
    `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    options,
  );
}

describeSqlDatabaseContract('postgres', () => openFresh());

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('PostgreSQL store specifics', () => {
  it('applies each migration once when several nodes start at the same time', async () => {
    const schema = `s${++schemas}`;
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    await setup.query(`create schema ${schema}`);
    await setup.end();
    const nodeUrl = `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const nodes = Array.from({ length: 4 }, () => openPostgresDatabase(nodeUrl, { poolSize: 2 }));
    const migrations = Array.from({ length: 5 }, (_, i) => ({
      id: `race/${i}`,
      sqlite: '',
      postgres: `create table race_${i} (id integer); insert into race_${i} values (${i});`,
    }));
    try {
      await Promise.all(nodes.map((db) => db.migrate(migrations)));
      const first = nodes[0]!;
      expect(
        (await first.query('select id from portico_migrations order by id')).map((r) => r.id),
      ).toEqual(migrations.map((m) => m.id));
      for (let i = 0; i < 5; i++)
        expect(await first.query(`select count(*) as n from race_${i}`)).toEqual([{ n: 1 }]);
    } finally {
      await Promise.all(nodes.map((db) => db.close()));
    }
  });

  it('reads json and jsonb columns as text, like SQLite', async () => {
    const db = await openFresh();
    try {
      await db.execute('create table j (a json, b jsonb)');
      await db.execute('insert into j (a, b) values ($1, $2)', [
        { x: 1 },
        JSON.stringify({ y: [true] }),
      ]);
      const [row] = await db.query('select a, b from j');
      expect(row).toEqual({ a: '{"x":1}', b: '{"y": [true]}' });
    } finally {
      await db.close();
    }
  });

  it('reports an unreachable server as StoreUnavailableError, without crashing', async () => {
    const port = await unusedPort();
    const db = openPostgresDatabase(`postgres://postgres@127.0.0.1:${port}/test`, {
      connectTimeoutMs: 500,
    });
    try {
      expect(await db.ready()).toBe(false);
      await expect(db.query('select 1')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(db.execute('select 1')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(db.transaction((tx) => tx.query('select 1'))).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await expect(db.migrate([])).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await db.close();
    }
  });

  it('reports a database that does not exist as StoreUnavailableError naming it', async () => {
    const db = openPostgresDatabase(`${SERVER}/${database}_missing`);
    try {
      const refused = db.transaction((tx) => tx.query('select 1'));
      await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(refused).rejects.toThrow(`database "${database}_missing" does not exist`);
    } finally {
      await db.close();
    }
  });

  it('survives the server dropping its connections, in and out of a transaction', async () => {
    const errors: Error[] = [];
    const db = await openFresh({ poolSize: 3, onError: (e) => errors.push(e) });
    const terminate = () =>
      admin((c) =>
        c.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [database],
        ),
      );
    try {
      await db.execute('create table t (v integer)');
      // Warm several idle pooled connections, then kill them all.
      await Promise.all([1, 2, 3].map((v) => db.execute('insert into t (v) values ($1)', [v])));
      await terminate();
      // A transaction holding a connection when it is killed fails as unavailable …
      await expect(
        db.transaction(async (tx) => {
          await tx.execute('insert into t (v) values ($1)', [4]);
          await terminate();
          await new Promise((resolve) => setTimeout(resolve, 50));
          await tx.execute('insert into t (v) values ($1)', [5]);
        }),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      // … and the store recovers by itself.
      await expect.poll(() => db.ready(), { timeout: 5000 }).toBe(true);
      expect((await db.query('select v from t order by v')).map((r) => r.v)).toEqual([1, 2, 3]);
      await db.transaction((tx) => tx.execute('insert into t (v) values ($1)', [6]));
      expect(await db.query('select count(*) as n from t')).toEqual([{ n: 4 }]);
    } finally {
      await db.close();
    }
  });
});
