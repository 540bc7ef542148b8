/**
 * BFF compositions on PostgreSQL (a fresh database per run): concurrent PUTs, as two hub
 * nodes (or one node's pooled connections) make them. SQLite serialises its writers, so
 * these races exist on PostgreSQL only.
 */
import { expect, it } from 'vitest';
import { useScratchPostgres } from '../../store/postgres/testing/scratch-postgres.ts';
import type { Composition } from './composition.ts';
import { BFF_MIGRATIONS } from './migrations.ts';
import { CompositionLimitError, CompositionStore } from './composition-store.ts';

const postgres = useScratchPostgres('bff');

const composition: Composition = {
  parts: { user: { api: 'people', version: 'v1', path: '/users/1' } },
  shape: 'user',
};

async function store(): Promise<CompositionStore> {
  const db = await postgres.open({ poolSize: 6 });
  await db.migrate(BFF_MIGRATIONS);
  return new CompositionStore(db);
}

it('creates a new composition once under concurrent PUTs of its name, and replaces it for the rest', async () => {
  // Each found nothing to update and inserted: the second insert's unique violation was a 500.
  const s = await store();
  // Open the pool's connections first, so the PUTs' transactions really overlap.
  await Promise.all(Array.from({ length: 6 }, () => s.list('acme')));
  for (const name of ['a', 'b', 'c']) {
    const created = await Promise.all(
      Array.from({ length: 10 }, () => s.put('acme', name, composition)),
    );
    expect(created.filter(Boolean)).toHaveLength(1);
  }
  expect(await s.list('acme')).toHaveLength(3);
});

it('holds the per-tenant limit under concurrent creations', async () => {
  // The count was taken before the insert's transaction: 20 concurrent creations all passed a limit of 3.
  const s = await store();
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => s.put('acme', `c${i}`, composition, 3)),
  );
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  for (const r of results)
    if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(CompositionLimitError);
  expect(await s.list('acme')).toHaveLength(3);
  // Replacing one is no creation: allowed at the limit.
  expect(await s.put('acme', (await s.list('acme'))[0]!.name, composition, 3)).toBe(false);
});
