import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeSqlDatabaseContract } from '../sql-database.contract.ts';
import { StoreUnavailableError } from '../store-unavailable-error.ts';
import { openSqliteDatabase } from './sqlite-database.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-sqlite-store-'));
let counter = 0;
const path = () => join(dir, `db-${++counter}.sqlite`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeSqlDatabaseContract('sqlite', async () => openSqliteDatabase(path()));

describe('SQLite store specifics', () => {
  it('opens in WAL mode with synchronous=NORMAL (the WAL is synced off the loop) and foreign keys on', async () => {
    const db = openSqliteDatabase(path());
    try {
      expect((await db.query('pragma journal_mode'))[0]?.journal_mode).toBe('wal');
      expect((await db.query('pragma synchronous'))[0]?.synchronous).toBe(1);
      await db.execute('create table parent (id integer primary key)');
      await db.execute(
        'create table child (id integer primary key, parent integer references parent (id))',
      );
      await expect(
        db.execute('insert into child (id, parent) values ($1, $2)', [1, 99]),
      ).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await db.close();
    }
  });

  it('keeps committed data across a close and a reopen', async () => {
    const file = path();
    const first = openSqliteDatabase(file);
    await first.execute('create table t (v text)');
    await first.transaction((tx) => tx.execute('insert into t (v) values ($1)', ['kept']));
    await first.close();
    const second = openSqliteDatabase(file);
    expect((await second.query('select v from t'))[0]?.v).toBe('kept');
    await second.close();
  });

  it('refuses the database itself inside transaction() rather than deadlocking', async () => {
    const db = openSqliteDatabase(path());
    await db.execute('create table t (v text)');
    await expect(
      db.transaction(() => db.execute('insert into t (v) values ($1)', ['x'])),
    ).rejects.toThrow(/tx executor/);
    expect(await db.query('select v from t')).toEqual([]);
    await db.close();
  });

  it('turns another process holding the write lock into StoreUnavailableError', async () => {
    const file = path();
    const holder = openSqliteDatabase(file);
    const blocked = openSqliteDatabase(file, { busyTimeoutMs: 50 });
    await holder.execute('create table t (v text)');
    let release!: () => void;
    let started!: () => void;
    const holding = new Promise<void>((resolve) => (started = resolve));
    const held = holder.transaction(async (tx) => {
      await tx.execute('insert into t (v) values ($1)', ['holder']);
      started();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await holding;
    await expect(
      blocked.execute('insert into t (v) values ($1)', ['other']),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    release();
    await held;
    await blocked.execute('insert into t (v) values ($1)', ['other']);
    expect((await blocked.query('select v from t order by v')).map((r) => r.v)).toEqual([
      'holder',
      'other',
    ]);
    await Promise.all([holder.close(), blocked.close()]);
  });

  it('waits for queued work before closing and refuses callers once the queue is full', async () => {
    const db = openSqliteDatabase(path(), { maxQueuedCallers: 2 });
    await db.execute('create table t (v integer)');
    let release!: () => void;
    const held = db.transaction(async (tx) => {
      await new Promise<void>((resolve) => (release = resolve));
      await tx.execute('insert into t (v) values ($1)', [1]);
    });
    const queued = [
      db.execute('insert into t (v) values ($1)', [2]),
      db.execute('insert into t (v) values ($1)', [3]),
    ];
    await expect(db.execute('insert into t (v) values ($1)', [4])).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    release();
    await Promise.all([held, ...queued]);
    expect((await db.query('select v from t order by v')).map((r) => r.v)).toEqual([1, 2, 3]);
    await db.close();
  });
});
