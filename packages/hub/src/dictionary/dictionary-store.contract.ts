/** What the dictionary's storage must do on every engine (SQLite in npm test, PostgreSQL in cluster). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../store/sql-database.ts';
import { DictionaryCache } from './dictionary-cache.ts';
import { DictionaryLimitError, DictionaryStore } from './dictionary-store.ts';
import { DICTIONARY_MIGRATIONS } from './migrations.ts';
import { toApi } from './model.ts';

export function describeDictionaryStoreContract(
  engine: string,
  open: () => Promise<SqlDatabase>,
): void {
  describe(`dictionary store on ${engine}`, () => {
    let db: SqlDatabase;
    let store: DictionaryStore;
    beforeEach(async () => {
      db = await open();
      await db.migrate(DICTIONARY_MIGRATIONS);
      await db.migrate(DICTIONARY_MIGRATIONS); // applying twice is a no-op
      store = new DictionaryStore(db);
    });
    afterEach(() => db.close());

    const orders = (baseUrl: string) =>
      toApi('orders', { domain: 'commerce', versions: [{ version: 'v1', baseUrl }] });

    it('creates, replaces and deletes APIs, bumping the revision each time', async () => {
      expect(await store.revision('acme')).toBe(0);
      expect(await store.putApi('acme', orders('/a'))).toBe(true);
      expect(await store.putApi('acme', orders('/b'))).toBe(false);
      expect(await store.revision('acme')).toBe(2);
      const loaded = await store.load('acme');
      expect(loaded.apis).toEqual([orders('/b')]);
      expect(loaded.revision).toBe(2);
      expect((await store.load('globex')).apis).toEqual([]);
      expect(await store.deleteApi('globex', 'orders')).toBe(false);
      expect(await store.deleteApi('acme', 'orders')).toBe(true);
      expect((await store.load('acme')).apis).toEqual([]);
    });

    it('keeps settings per app and the anonymous flag', async () => {
      await store.putSettings('acme', '*', { refreshSeconds: 60 });
      await store.putSettings('acme', 'shell', { features: { a: true } });
      await store.putSettings('acme', 'shell', { features: { a: false } });
      expect(await store.isAnonymous('acme')).toBe(false);
      await store.setAnonymous('acme', true);
      const loaded = await store.load('acme');
      expect(loaded.anonymous).toBe(true);
      expect(await store.isAnonymous('acme')).toBe(true);
      expect(await store.isAnonymous('globex')).toBe(false); // unknown: never written
      expect(Object.fromEntries(loaded.settings)).toEqual({
        '*': { refreshSeconds: 60 },
        shell: { features: { a: false } },
      });
      expect(await store.deleteSettings('acme', 'shell')).toBe(true);
      expect(await store.deleteSettings('acme', 'shell')).toBe(false);
    });

    it('stores override sets per tenant and purges expired ones', async () => {
      const set = {
        id: 'ovr_aaaaaaaaaaaaaaaaaaaaaaaa',
        tenant: 'acme',
        name: 'canary',
        patch: [{ api: 'orders', version: 'v1', baseUrl: '/canary' }],
        createdBy: 'alice',
        createdAt: 1000,
        expiresAt: 2000,
      };
      await store.createOverride(set);
      await store.createOverride({ ...set, id: 'ovr_bbbbbbbbbbbbbbbbbbbbbbbb', expiresAt: 9000 });
      expect(await store.getOverride(set.id)).toEqual(set);
      expect(await store.countOverrides('acme')).toBe(2);
      expect(await store.countOverrides('globex')).toBe(0);
      expect(await store.deleteOverride('globex', set.id)).toBe(false);
      expect(await store.purgeOverrides(3000)).toBe(1);
      expect(await store.getOverride(set.id)).toBeUndefined();
      expect((await store.listOverrides('acme', 10)).map((o) => o.id)).toEqual([
        'ovr_bbbbbbbbbbbbbbbbbbbbbbbb',
      ]);
    });

    it('holds the API and override caps under 20 concurrent creations', async () => {
      const api = (i: number) =>
        toApi(`api-${i}`, { domain: 'd', versions: [{ version: 'v1', baseUrl: '/a' }] });
      const apis = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.putApi('acme', api(i), 3)),
      );
      expect(apis.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect(apis.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(
        DictionaryLimitError,
      );
      expect((await store.load('acme')).apis).toHaveLength(3);
      const set = (i: number) => ({
        id: `ovr_${String(i).padStart(24, 'c')}`,
        tenant: 'acme',
        name: `set-${i}`,
        patch: [{ api: 'orders', version: 'v1', baseUrl: '/canary' }],
        createdBy: 'alice',
        createdAt: 1000,
        expiresAt: 2000,
      });
      const sets = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.createOverride(set(i), 3)),
      );
      expect(sets.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect(await store.countOverrides('acme')).toBe(3);
    });

    it("lets a node's cached copy see another node's write", async () => {
      const nodeA = new DictionaryCache(new DictionaryStore(db), { recheckMs: 0 });
      const nodeB = new DictionaryCache(new DictionaryStore(db), { recheckMs: 0 });
      expect((await nodeB.snapshot('acme')).apis).toEqual([]);
      await store.putApi('acme', orders('/a'));
      nodeA.invalidate('acme');
      expect((await nodeA.snapshot('acme')).index.get('orders\0v1')?.version.baseUrl).toBe('/a');
      expect((await nodeB.snapshot('acme')).index.get('orders\0v1')?.version.baseUrl).toBe('/a');
    });
  });
}
