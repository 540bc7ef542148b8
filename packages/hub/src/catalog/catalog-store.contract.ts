/** What both state-store engines must do for the catalog's tables (SQLite and PostgreSQL). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../store/sql-database.ts';
import { AppLimitError, CatalogStore, RevisionConflictError } from './catalog-store.ts';
import type { AppManifest } from './manifest-schema.ts';
import { CATALOG_MIGRATIONS } from './migrations.ts';

const app = (name: string, version = '1'): AppManifest => ({
  name,
  version,
  owner: { team: 'team' },
  domain: 'x',
});

export function describeCatalogStoreContract(name: string, open: () => Promise<SqlDatabase>) {
  describe(`catalog store (${name})`, () => {
    let db: SqlDatabase;
    let store: CatalogStore;
    beforeEach(async () => {
      db = await open();
      await db.migrate(CATALOG_MIGRATIONS);
      store = new CatalogStore(db);
    });
    afterEach(() => db.close());

    it('holds the per-tenant app limit under concurrent first publishes', async () => {
      // The count was taken before the save's transaction: on PostgreSQL 20 concurrent
      // first publishes all passed a limit of 3.
      await Promise.all(Array.from({ length: 6 }, () => store.list('acme')));
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          store.save('acme', app(`app-${i}`), 0, { forced: false, changes: [] }, 3),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AppLimitError);
      expect(await store.count('acme')).toBe(3);
    });

    it('stores revisions per tenant and name', async () => {
      const first = await store.save('acme', app('billing'), 0, { forced: false, changes: [] });
      expect(first).toMatchObject({ name: 'billing', revision: 1 });
      const second = await store.save('acme', app('billing', '2'), 1, {
        forced: true,
        changes: [{ severity: 'breaking', code: 'api-removed', location: 'x', detail: 'y' }],
      });
      expect(second.revision).toBe(2);
      expect(second.createdAt).toBe(first.createdAt);
      await store.save('globex', app('billing', 'g'), 0, { forced: false, changes: [] });

      expect((await store.get('acme', 'billing'))!.manifest.version).toBe('2');
      expect((await store.get('globex', 'billing'))!.manifest.version).toBe('g');
      expect(await store.get('initech', 'billing')).toBeUndefined();
      expect((await store.list('acme')).map((a) => a.name)).toEqual(['billing']);
      expect(await store.count('globex')).toBe(1);
      const revisions = await store.revisions('acme', 'billing');
      expect(revisions.map((r) => [r.revision, r.forced, r.changes.length])).toEqual([
        [2, true, 1],
        [1, false, 0],
      ]);

      expect(await store.delete('acme', 'billing')).toBe(true);
      expect(await store.delete('acme', 'billing')).toBe(false);
      expect(await store.revisions('acme', 'billing')).toEqual([]);
      expect(await store.get('globex', 'billing')).toBeDefined();
    });

    it('lets exactly one of concurrent publishes from the same revision win', async () => {
      const news = await Promise.allSettled(
        [1, 2, 3, 4].map((i) =>
          store.save('acme', app('race', String(i)), 0, { forced: false, changes: [] }),
        ),
      );
      expect(news.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of news)
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RevisionConflictError);

      const updates = await Promise.allSettled(
        [1, 2, 3, 4].map((i) =>
          store.save('acme', app('race', `u${i}`), 1, { forced: false, changes: [] }),
        ),
      );
      expect(updates.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      await expect(
        store.save('acme', app('race', 'stale'), 1, { forced: false, changes: [] }),
      ).rejects.toBeInstanceOf(RevisionConflictError);
      expect((await store.get('acme', 'race'))!.revision).toBe(2);
      expect(await store.revisions('acme', 'race')).toHaveLength(2);
    });

    it('keeps the last 50 revisions', async () => {
      for (let i = 0; i < 53; i++)
        await store.save('acme', app('many', String(i)), i, { forced: false, changes: [] });
      const revisions = await store.revisions('acme', 'many');
      expect(revisions).toHaveLength(50);
      expect(revisions[0]!.revision).toBe(53);
      expect(revisions.at(-1)!.revision).toBe(4);
    });
  });
}
