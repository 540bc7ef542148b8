import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDatabase } from '../store/sql-database.ts';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { TransactionBatcher } from './transaction-batcher.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-batcher-'));
let counter = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The real SQLite store, counting the transactions it is asked for (`runBatch` on its
 * writer thread, or `transaction()` when `threaded` is false).
 */
async function counted(threaded = true): Promise<{ db: SqlDatabase; transactions: () => number }> {
  const db = openSqliteDatabase(join(dir, `db-${++counter}.sqlite`));
  await db.execute('create table t (k text primary key, v integer not null)');
  let n = 0;
  const wrapped: SqlDatabase = {
    dialect: db.dialect,
    query: (sql, params) => db.query(sql, params),
    execute: (sql, params) => db.execute(sql, params),
    transaction: (work) => {
      n++;
      return db.transaction(work);
    },
    ...(threaded
      ? {
          runBatch: (units) => {
            n++;
            return db.runBatch!(units);
          },
        }
      : {}),
    migrate: (migrations) => db.migrate(migrations),
    ready: () => db.ready(),
    close: () => db.close(),
  };
  return { db: wrapped, transactions: () => n };
}

const insert = (k: string, v: number) => ({
  order: k,
  statements: [{ sql: 'insert into t (k, v) values ($1, $2)', params: [k, v] }],
  result: ([n]: unknown[]) => n as number,
});

describe('TransactionBatcher', () => {
  for (const threaded of [true, false])
    it(`runs the works of one tick in one transaction, each with its own result (${threaded ? 'runBatch' : 'transaction()'})`, async () => {
      const { db, transactions } = await counted(threaded);
      const batcher = new TransactionBatcher(db);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => batcher.run(insert(`k${i}`, i))),
      );
      expect(results).toEqual(Array.from({ length: 20 }, () => 1));
      expect(transactions()).toBe(1);
      expect((await db.query('select count(*) as n from t'))[0]?.n).toBe(20);
      await db.close();
    });

  it('runs a statement marked ifChanged only when the one before it changed a row', async () => {
    const { db } = await counted();
    await db.execute('insert into t (k, v) values ($1, $2)', ['a', 1]);
    const batcher = new TransactionBatcher(db);
    const bump = (k: string) => ({
      order: k,
      statements: [
        { sql: 'update t set v = v + 1 where k = $1', params: [k] },
        { sql: 'insert into t (k, v) values ($1, $2)', params: [`${k}-log`, 0], ifChanged: true },
      ],
      result: (results: unknown[]) => results,
    });
    expect(await Promise.all([batcher.run(bump('a')), batcher.run(bump('zz'))])).toEqual([
      [1, 1],
      [0, null],
    ]);
    expect(await db.query('select k, v from t order by k')).toEqual([
      { k: 'a', v: 2 },
      { k: 'a-log', v: 0 },
    ]);
    await db.close();
  });

  it('resolves only once the batch is committed', async () => {
    const { db } = await counted();
    const batcher = new TransactionBatcher(db);
    await batcher.run(insert('a', 1));
    // A fresh connection sees the row: it was committed before run() resolved.
    const other = openSqliteDatabase(join(dir, `db-${counter}.sqlite`));
    expect(await other.query('select v from t where k = $1', ['a'])).toEqual([{ v: 1 }]);
    await other.close();
    await db.close();
  });

  it('queues work submitted while a batch commits into the next batch', async () => {
    const { db, transactions } = await counted();
    const batcher = new TransactionBatcher(db);
    const first = batcher.run(insert('a', 1));
    await new Promise((resolve) => setImmediate(resolve));
    const later = Array.from({ length: 5 }, (_, i) => batcher.run(insert(`b${i}`, i)));
    await Promise.all([first, ...later]);
    expect(transactions()).toBeLessThanOrEqual(2);
    expect((await db.query('select count(*) as n from t'))[0]?.n).toBe(6);
    await db.close();
  });

  it('a failing work fails alone: the rest of its batch is committed', async () => {
    const { db } = await counted();
    await db.execute('insert into t (k, v) values ($1, $2)', ['taken', 0]);
    const batcher = new TransactionBatcher(db);
    const settled = await Promise.allSettled([
      batcher.run(insert('x', 1)),
      batcher.run(insert('taken', 2)),
      batcher.run(insert('y', 3)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await db.query('select k, v from t order by k')).toEqual([
      { k: 'taken', v: 0 },
      { k: 'x', v: 1 },
      { k: 'y', v: 3 },
    ]);
    await db.close();
  });

  it('runs the works of a batch in their order key', async () => {
    const { db } = await counted();
    await db.execute('create table seen (n integer primary key autoincrement, o text)');
    const batcher = new TransactionBatcher(db);
    const work = (order: string) => ({
      order,
      statements: [{ sql: 'insert into seen (o) values ($1)', params: [order] }],
      result: () => order,
    });
    await Promise.all(['1c', '0b', '1a', '0a'].map((o) => batcher.run(work(o))));
    expect((await db.query('select o from seen order by n')).map((r) => r.o)).toEqual([
      '0a',
      '0b',
      '1a',
      '1c',
    ]);
    await db.close();
  });
});
