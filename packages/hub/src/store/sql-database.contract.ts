/**
 * The behaviour every `SqlDatabase` implementation must have, as a vitest suite. Each
 * engine's test file calls `describeSqlDatabaseContract` with a function that opens a
 * fresh, empty database; the suite closes what it opens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Migration, SqlDatabase } from './sql-database.ts';
import { StoreUnavailableError } from './store-unavailable-error.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ITEMS =
  'create table items (id integer primary key, name text not null, qty integer, note text)';

export function describeSqlDatabaseContract(name: string, open: () => Promise<SqlDatabase>): void {
  describe(`SqlDatabase contract: ${name}`, () => {
    const opened: SqlDatabase[] = [];
    const fresh = async (ddl: string[] = [ITEMS]) => {
      const db = await open();
      opened.push(db);
      for (const statement of ddl) await db.execute(statement);
      return db;
    };
    const names = async (db: SqlDatabase) =>
      (await db.query<{ name: string }>('select name from items order by name')).map((r) => r.name);

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((db) => db.close()));
    });

    it('creates, reads, updates and deletes rows through $n placeholders', async () => {
      const db = await fresh();
      expect(
        await db.execute('insert into items (id, name, qty, note) values ($1, $2, $3, $4)', [
          1,
          'apple',
          3,
          'red',
        ]),
      ).toBe(1);
      await db.execute('insert into items (id, name, qty, note) values ($1, $2, $3, $4)', [
        2,
        'pear',
        5,
        'green',
      ]);

      // Out of order and reused placeholders bind by number, not by position.
      const rows = await db.query(
        'select id, name, qty from items where qty > $2 and (name = $1 or note = $1)',
        ['green', 4],
      );
      expect(rows.map((r) => ({ ...r }))).toEqual([{ id: 2, name: 'pear', qty: 5 }]);

      // A `$1` inside a string literal is text, not a placeholder.
      const [literal] = await db.query("select '$1' as lit, name from items where id = $1", [1]);
      expect(literal?.lit).toBe('$1');
      expect(literal?.name).toBe('apple');

      expect(await db.execute('update items set qty = qty + $1 where qty >= $2', [10, 3])).toBe(2);
      expect(await db.execute('delete from items where id = $1', [1])).toBe(1);
      expect(await db.execute('delete from items where id = $1', [1])).toBe(0);
      expect((await db.query('select id, qty from items')).map((r) => ({ ...r }))).toEqual([
        { id: 2, qty: 15 },
      ]);
    });

    it('rejects a wrong number of parameters and stays usable after an SQL error', async () => {
      const db = await fresh();
      await expect(
        db.execute('insert into items (id, name) values ($1, $2)', [1]),
      ).rejects.toThrow();
      await expect(db.query('select nonsense from nowhere')).rejects.toThrow();
      await expect(
        db.execute('insert into items (id, name) values ($1, $2)', [1, 'x']),
      ).resolves.toBe(1);
      await expect(
        db.execute('insert into items (id, name) values ($1, $2)', [1, 'dup']),
      ).rejects.toThrow();
      expect(await names(db)).toEqual(['x']);
    });

    it('writes null and undefined as NULL and reads NULL as null', async () => {
      const db = await fresh();
      await db.execute('insert into items (id, name, qty, note) values ($1, $2, $3, $4)', [
        1,
        'a',
        null,
        undefined,
      ]);
      const [row] = await db.query(
        'select qty, note from items where note is null and qty is null',
      );
      expect(row?.qty).toBeNull();
      expect(row?.note).toBeNull();
    });

    it('maps values the same way on every engine', async () => {
      const db = await fresh(['create table v (flag boolean, big bigint, at text, doc text)']);
      const at = new Date('2025-01-02T03:04:05.678Z');
      await db.execute('insert into v (flag, big, at, doc) values ($1, $2, $3, $4)', [
        true,
        2n ** 40n,
        at,
        { a: [1, 2] },
      ]);
      await db.execute('insert into v (flag, big) values ($1, $2)', [false, 7]);
      const rows = await db.query('select flag, big, at, doc from v order by big desc');
      expect(rows.map((r) => ({ ...r }))).toEqual([
        { flag: 1, big: 2 ** 40, at: '2025-01-02T03:04:05.678Z', doc: '{"a":[1,2]}' },
        { flag: 0, big: 7, at: null, doc: null },
      ]);
      // Booleans as parameters compare against boolean columns.
      expect(await db.query('select big from v where flag = $1', [true])).toHaveLength(1);
      const [count] = await db.query<{ n: unknown }>('select count(*) as n from v');
      expect(count?.n).toBe(2);
    });

    it('round-trips binary data', async () => {
      const db = await fresh();
      await db.migrate([
        {
          id: 'blobs/001',
          sqlite: 'create table blobs (id integer primary key, body blob)',
          postgres: 'create table blobs (id integer primary key, body bytea)',
        },
      ]);
      const body = Buffer.from([0, 1, 2, 254, 255]);
      await db.execute('insert into blobs (id, body) values ($1, $2)', [1, body]);
      const [row] = await db.query<{ body: Uint8Array }>(
        'select body from blobs where id = $1',
        [1],
      );
      expect(row?.body).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(row!.body).equals(body)).toBe(true);
    });

    it('round-trips JSON as text', async () => {
      const db = await fresh(['create table docs (id integer primary key, body text not null)']);
      const doc = {
        name: 'Zoë ✓',
        nested: { list: [1, 'two', null, true], empty: {} },
        quote: 'it\'s "quoted"',
      };
      await db.execute('insert into docs (id, body) values ($1, $2)', [1, JSON.stringify(doc)]);
      await db.execute('insert into docs (id, body) values ($1, $2)', [2, doc]);
      const rows = await db.query<{ body: string }>('select body from docs order by id');
      expect(rows.map((r) => JSON.parse(r.body))).toEqual([doc, doc]);
    });

    it('upserts with ON CONFLICT … DO UPDATE', async () => {
      const db = await fresh([
        'create table kv (k text primary key, v text not null, hits integer not null)',
      ]);
      const upsert =
        'insert into kv (k, v, hits) values ($1, $2, 1) on conflict (k) do update set v = excluded.v, hits = kv.hits + 1';
      await db.execute(upsert, ['a', 'one']);
      await db.execute(upsert, ['a', 'two']);
      await db.execute(upsert, ['b', 'bee']);
      const rows = await db.query('select k, v, hits from kv order by k');
      expect(rows.map((r) => ({ ...r }))).toEqual([
        { k: 'a', v: 'two', hits: 2 },
        { k: 'b', v: 'bee', hits: 1 },
      ]);
      const keep = 'insert into kv (k, v, hits) values ($1, $2, 1) on conflict (k) do nothing';
      expect(await db.execute(keep, ['a', 'three'])).toBe(0);
    });

    it('returns rows from RETURNING on insert, update and delete', async () => {
      const db = await fresh();
      const inserted = await db.query(
        'insert into items (id, name, qty) values ($1, $2, $3), ($4, $5, $6) returning id, name',
        [1, 'a', 1, 2, 'b', 2],
      );
      expect(inserted.map((r) => ({ ...r })).sort((x, y) => Number(x.id) - Number(y.id))).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ]);
      const updated = await db.query(
        'update items set qty = qty * 10 where id = $1 returning qty',
        [2],
      );
      expect(updated.map((r) => r.qty)).toEqual([20]);
      const deleted = await db.query('delete from items where id = $1 returning name', [1]);
      expect(deleted.map((r) => r.name)).toEqual(['a']);
    });

    it('commits a transaction that resolves and returns its value', async () => {
      const db = await fresh();
      const result = await db.transaction(async (tx) => {
        await tx.execute('insert into items (id, name) values ($1, $2)', [1, 'a']);
        await tx.execute('insert into items (id, name) values ($1, $2)', [2, 'b']);
        const inside = await tx.query('select count(*) as n from items');
        return inside[0]?.n;
      });
      expect(result).toBe(2);
      expect(await names(db)).toEqual(['a', 'b']);
    });

    it('rolls back everything when the work throws, and rethrows the error', async () => {
      const db = await fresh();
      await db.execute('insert into items (id, name) values ($1, $2)', [1, 'before']);
      const boom = new Error('boom');
      await expect(
        db.transaction(async (tx) => {
          await tx.execute('insert into items (id, name) values ($1, $2)', [2, 'inside']);
          await tx.execute('update items set name = $1 where id = $2', ['changed', 1]);
          throw boom;
        }),
      ).rejects.toBe(boom);
      // A failing statement inside also rolls back the statements before it.
      await expect(
        db.transaction(async (tx) => {
          await tx.execute('insert into items (id, name) values ($1, $2)', [3, 'inside']);
          await tx.execute('insert into items (id, name) values ($1, $2)', [1, 'duplicate key']);
        }),
      ).rejects.toThrow();
      expect(await names(db)).toEqual(['before']);
    });

    it('keeps concurrent transactions and plain statements apart', async () => {
      const db = await fresh();
      let aInserted!: () => void;
      const aOpen = new Promise<void>((resolve) => (aInserted = resolve));
      const failing = db.transaction(async (tx) => {
        await tx.execute('insert into items (id, name) values ($1, $2)', [1, 'a']);
        aInserted();
        await sleep(30);
        throw new Error('a fails');
      });
      const seen = db.transaction(async (tx) => {
        await tx.execute('insert into items (id, name) values ($1, $2)', [2, 'b']);
        await sleep(10);
        return (await tx.query<{ name: string }>('select name from items order by name')).map(
          (r) => r.name,
        );
      });
      // Issued while A is open (and may be holding the connection): must not join A.
      await aOpen;
      const outside = db.execute('insert into items (id, name) values ($1, $2)', [3, 'c']);
      await expect(failing).rejects.toThrow('a fails');
      const visible = await seen;
      await outside;
      // Neither the other transaction's uncommitted row nor its rollback leaks across.
      expect(visible).not.toContain('a');
      expect(visible).toContain('b');
      expect(await names(db)).toEqual(['b', 'c']);
    });

    it('commits exactly the transactions that succeed among many concurrent ones', async () => {
      const db = await fresh();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          db.transaction(async (tx) => {
            await tx.execute('insert into items (id, name) values ($1, $2)', [i * 2, `t${i}-1`]);
            await sleep(1 + (i % 3));
            await tx.execute('insert into items (id, name) values ($1, $2)', [
              i * 2 + 1,
              `t${i}-2`,
            ]);
            if (i % 2 === 1) throw new Error(`t${i} fails`);
            return i;
          }),
        ),
      );
      expect(outcomes.map((o) => o.status)).toEqual(
        Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'fulfilled' : 'rejected')),
      );
      const expected = [0, 2, 4, 6, 8, 10].flatMap((i) => [`t${i}-1`, `t${i}-2`]).sort();
      expect(await names(db)).toEqual(expected);
    });

    it('refuses the transaction executor after the transaction ended', async () => {
      const db = await fresh();
      let leaked: { execute: (sql: string, p?: unknown[]) => Promise<number> } | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(
        leaked!.execute('insert into items (id, name) values ($1, $2)', [1, 'late']),
      ).rejects.toThrow(/finished/);
      expect(await names(db)).toEqual([]);
    });

    describe('migrations', () => {
      const base: Migration[] = [
        {
          id: 'contract/001-widgets',
          sqlite: 'create table widgets (id integer primary key, label text)',
          postgres: 'create table widgets (id integer primary key, label text)',
        },
        {
          // Several statements, and a different script per dialect.
          id: 'contract/002-engine',
          sqlite: "create table engine (name text); insert into engine (name) values ('sqlite');",
          postgres:
            "create table engine (name text); insert into engine (name) values ('postgres');",
        },
      ];
      const applied = async (db: SqlDatabase) =>
        (
          await db.query<{ id: string }>(
            'select id from portico_migrations order by applied_at, id',
          )
        ).map((r) => r.id);

      it("applies missing migrations once, in order, with the dialect's script", async () => {
        const db = await fresh([]);
        await db.migrate(base);
        expect(await applied(db)).toEqual(['contract/001-widgets', 'contract/002-engine']);
        const [engine] = await db.query('select name from engine');
        expect(engine?.name).toBe(db.dialect);

        // Re-running is a no-op (the DDL would fail if it ran again) …
        await db.migrate(base);
        // … and a later list applies only what is new.
        const third: Migration = {
          id: 'contract/003-more',
          sqlite: 'alter table widgets add column size integer',
          postgres: 'alter table widgets add column size integer',
        };
        await db.migrate([...base, third]);
        expect(await applied(db)).toEqual([...base.map((m) => m.id), third.id]);
        await db.execute('insert into widgets (id, label, size) values ($1, $2, $3)', [1, 'w', 2]);
        expect(await db.query('select count(*) as n from engine')).toEqual([
          expect.objectContaining({ n: 1 }),
        ]);
      });

      it('rolls back a failing migration, records nothing for it and stops there', async () => {
        const db = await fresh([]);
        const broken: Migration = {
          id: 'contract/002-broken',
          sqlite: 'create table half (id integer); insert into missing_table values (1);',
          postgres: 'create table half (id integer); insert into missing_table values (1);',
        };
        const after: Migration = {
          id: 'contract/003-after',
          sqlite: 'create table after_broken (id integer)',
          postgres: 'create table after_broken (id integer)',
        };
        await expect(db.migrate([base[0]!, broken, after])).rejects.toThrow(/contract\/002-broken/);
        expect(await applied(db)).toEqual(['contract/001-widgets']);
        await expect(db.query('select * from half')).rejects.toThrow();
        await expect(db.query('select * from after_broken')).rejects.toThrow();
      });

      it('applies each migration once when several migrate calls race', async () => {
        const db = await fresh([]);
        await Promise.all([db.migrate(base), db.migrate(base), db.migrate(base)]);
        expect(await applied(db)).toEqual(base.map((m) => m.id));
        expect(await db.query('select count(*) as n from engine')).toEqual([
          expect.objectContaining({ n: 1 }),
        ]);
      });

      it('rejects a list that names one id twice', async () => {
        const db = await fresh([]);
        await expect(db.migrate([base[0]!, base[0]!])).rejects.toThrow(/twice/);
      });
    });

    it('is ready while open; close is idempotent and later calls fail as unavailable', async () => {
      const db = await fresh();
      expect(await db.ready()).toBe(true);
      await Promise.all([db.close(), db.close()]);
      await db.close();
      expect(await db.ready()).toBe(false);
      await expect(db.query('select 1')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(db.transaction(async () => 1)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}
