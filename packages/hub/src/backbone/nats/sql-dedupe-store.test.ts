import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../store/sqlite/sqlite-database.ts';
import type { SqlDatabase } from '../../store/sql-database.ts';
import { openSqlDedupeStore } from './sql-dedupe-store.ts';

describe('SQL dedupe store (on SQLite)', () => {
  let dir: string;
  let db: SqlDatabase;
  const open = async (stream = 'S') => {
    dir = mkdtempSync(join(tmpdir(), 'portico-dedupe-'));
    db = openSqliteDatabase(join(dir, 'store.sqlite'));
    return openSqlDedupeStore(db, { stream });
  };
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const rec = (dedupeKey: string, position: number, eventKey = `e-${dedupeKey}`) => ({
    dedupeKey,
    eventKey,
    position,
    partition: position % 4,
  });

  it('records new keys and keeps the first event of a key inside the window', async () => {
    const store = await open();
    const first = await store.record([rec('a', 1), rec('b', 2)], 1000, 0);
    expect(first).toEqual(
      new Map([
        ['a', { position: 1, partition: 1 }],
        ['b', { position: 2, partition: 2 }],
      ]),
    );
    const again = await store.record([rec('a', 9), rec('c', 10)], 2000, 500);
    expect(again.get('a')).toEqual({ position: 1, partition: 1 });
    expect(again.get('c')).toEqual({ position: 10, partition: 2 });
    expect(await store.find(['a', 'b', 'zzz'], 500)).toEqual(
      new Map([
        ['a', { position: 1, partition: 1 }],
        ['b', { position: 2, partition: 2 }],
      ]),
    );
  });

  it('lets a new event take a key once the old record left the window', async () => {
    const store = await open();
    await store.record([rec('a', 1)], 1000, 0);
    expect(await store.find(['a'], 1001)).toEqual(new Map());
    const taken = await store.record([rec('a', 5)], 5000, 1001);
    expect(taken.get('a')?.position).toBe(5);
  });

  it('finds the newest position of an event key and forgets positions removed by retention', async () => {
    const store = await open();
    await store.record([rec('a', 1, 'same-id'), rec('b', 4, 'same-id'), rec('c', 7)], 1000, 0);
    expect(await store.positionOf('same-id')).toBe(4);
    expect(await store.positionOf('missing')).toBeUndefined();
    expect(await store.forgetBefore(5)).toBe(2);
    expect(await store.positionOf('same-id')).toBeUndefined();
    expect(await store.find(['c'], 0)).toEqual(new Map([['c', { position: 7, partition: 3 }]]));
  });

  it('handles batches larger than one statement', async () => {
    const store = await open();
    const records = Array.from({ length: 450 }, (_, i) => rec(`k${i}`, i + 1));
    const result = await store.record(records, 1000, 0);
    expect(result.size).toBe(450);
    expect(
      (
        await store.find(
          records.map((r) => r.dedupeKey),
          0,
        )
      ).size,
    ).toBe(450);
  });
});
