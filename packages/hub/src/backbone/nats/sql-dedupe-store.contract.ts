/**
 * The SQL dedupe store's behaviour, as a vitest suite run on each engine: SQLite in
 * `sql-dedupe-store.test.ts`, PostgreSQL in `sql-dedupe-store.cluster.test.ts`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../store/sql-database.ts';
import { openSqlDedupeStore } from './sql-dedupe-store.ts';

export function describeSqlDedupeStore(
  engine: string,
  openDb: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
): void {
  describe(`SQL dedupe store (on ${engine})`, () => {
    let cleanups: (() => Promise<void>)[] = [];
    const open = async (stream = 'S') => {
      const { db, cleanup } = await openDb();
      cleanups.push(cleanup);
      return openSqlDedupeStore(db, { stream });
    };
    afterEach(async () => {
      for (const cleanup of cleanups) await cleanup();
      cleanups = [];
    });
    const rec = (
      dedupeKey: string,
      position: number,
      recordedAt = 1000,
      eventKey = `e-${dedupeKey}`,
    ) => ({
      dedupeKey,
      eventKey,
      position,
      partition: position % 4,
      recordedAt,
    });
    const held = (position: number, recordedAt = 1000) => ({
      position,
      partition: position % 4,
      recordedAt,
    });

    it('records new keys and keeps the first event of a key inside the window', async () => {
      const store = await open();
      const first = await store.record([rec('a', 1), rec('b', 2)], 1000);
      expect(first).toEqual(
        new Map([
          ['a', held(1)],
          ['b', held(2)],
        ]),
      );
      const again = await store.record([rec('a', 9, 1500), rec('c', 10, 1500)], 1000);
      expect(again.get('a')).toEqual(held(1));
      expect(again.get('c')).toEqual(held(10, 1500));
      expect(await store.find(['a', 'b', 'zzz'])).toEqual(
        new Map([
          ['a', held(1)],
          ['b', held(2)],
        ]),
      );
    });

    it('lets a new event take a key once the old record left the window', async () => {
      const store = await open();
      await store.record([rec('a', 1, 1000)], 1000);
      // find reports the old record with its age; the caller decides it is outside.
      expect(await store.find(['a'])).toEqual(new Map([['a', held(1, 1000)]]));
      const taken = await store.record([rec('a', 5, 2001)], 1000);
      expect(taken.get('a')).toEqual(held(5, 2001));
      expect((await store.find(['a'])).get('a')?.position).toBe(5);
    });

    it('merges concurrent calls without mixing up their answers', async () => {
      const store = await open();
      await store.record([rec('old', 1)], 1000);
      // Issued together: they may share statements, and two of them record one key.
      const [x, y, z] = await Promise.all([
        store.record([rec('p', 2), rec('q', 3)], 1000),
        store.record([rec('q', 4), rec('old', 5)], 1000),
        store.record([rec('r', 6)], 1000),
      ]);
      expect(x.get('p')?.position).toBe(2);
      const q = x.get('q')!.position;
      expect([3, 4]).toContain(q);
      expect(y.get('q')?.position).toBe(q);
      expect(y.get('old')?.position).toBe(1);
      expect(z.get('r')?.position).toBe(6);
      const found = await Promise.all([store.find(['p', 'zz']), store.find(['r']), store.find([])]);
      expect(found[0]!.get('p')?.position).toBe(2);
      expect(found[0]!.has('zz')).toBe(false);
      expect(found[1]!.get('r')?.position).toBe(6);
      expect(found[2]!.size).toBe(0);
    });

    it('finds the newest position of an event key and forgets positions removed by retention', async () => {
      const store = await open();
      await store.record(
        [rec('a', 1, 1000, 'same-id'), rec('b', 4, 1000, 'same-id'), rec('c', 7)],
        1000,
      );
      expect(await store.positionOf('same-id')).toBe(4);
      expect(await store.positionOf('missing')).toBeUndefined();
      expect(await store.forgetBefore(5)).toBe(2);
      expect(await store.positionOf('same-id')).toBeUndefined();
      expect(await store.find(['c'])).toEqual(new Map([['c', held(7)]]));
    });

    it('handles batches larger than one statement', async () => {
      const store = await open();
      const records = Array.from({ length: 1_100 }, (_, i) => rec(`k${i}`, i + 1));
      const result = await store.record(records, 1000);
      expect(result.size).toBe(1_100);
      expect((await store.find(records.map((r) => r.dedupeKey))).size).toBe(1_100);
    });

    it('keeps streams apart and takes keys with quotes and backslashes', async () => {
      const one = await open('ONE');
      await one.record([rec('a"b\\c', 1)], 1000);
      expect((await one.find(['a"b\\c', 'a'])).get('a"b\\c')?.position).toBe(1);
    });
  });
}
