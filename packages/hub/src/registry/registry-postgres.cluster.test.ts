/**
 * The registry on PostgreSQL (127.0.0.1:5432, trust auth) with two "hub nodes" (two
 * registries on two pools over one database): the migrations and SQL run on PostgreSQL,
 * concurrent registrations never hand out one version twice, ids stay unique, and one
 * node's publish-time cache sees the other node's writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/cluster/engines.ts';
import { openPostgresDatabase } from '../store/postgres/postgres-database.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { REGISTRY_MIGRATIONS } from './migrations.ts';
import { PublishCache } from './publish-cache.ts';
import { RegistryStore } from './registry-store.ts';
import { SchemaCompiler } from './schema-compiler.ts';
import { SchemaRegistry } from './schema-registry.ts';

let database: TestDatabase;

type Node = { db: SqlDatabase; store: RegistryStore; registry: SchemaRegistry };
let a: Node;
let b: Node;

function node(): Node {
  const db = openPostgresDatabase(database.url, { poolSize: 4 });
  const store = new RegistryStore(db);
  return { db, store, registry: new SchemaRegistry({ store, compiler: new SchemaCompiler() }) };
}

beforeAll(async () => {
  database = await createTestDatabase('registry');
  a = node();
  b = node();
  // Both nodes migrate at once, as two hubs starting together would.
  await Promise.all([a.db.migrate(REGISTRY_MIGRATIONS), b.db.migrate(REGISTRY_MIGRATIONS)]);
});

afterAll(async () => {
  await a?.db.close();
  await b?.db.close();
  await database?.drop();
});

const schema = (i: number) =>
  JSON.stringify({
    type: 'object',
    properties: { id: { type: 'string' }, [`extra${i}`]: { type: 'string' } },
  });

describe('registry on PostgreSQL, two nodes', () => {
  it('concurrent registrations get distinct versions and ids', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).registry.register('acme', 'shop.order.placed', { schema: schema(i) }),
      ),
    );
    const versions = results.map((r) => r.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(new Set(results.map((r) => r.id)).size).toBe(12);
    expect(await b.registry.versionNumbers('acme', 'shop.order.placed', false)).toEqual(versions);
  });

  it('reads, lookups, config and deletes behave as on SQLite', async () => {
    const { id } = await a.registry.register('acme', 'hr.person.hired', { schema: schema(99) });
    expect((await b.registry.schemaById('acme', id)).schema).toBe(
      JSON.parse(JSON.stringify(schema(99))),
    );
    expect(
      (await b.registry.lookup('acme', 'hr.person.hired', { schema: schema(99) })).version,
    ).toBe(1);
    await expect(b.registry.schemaById('globex', id)).rejects.toMatchObject({ status: 404 });
    await b.registry.putConfig('acme', 'hr.person.hired', {
      compatibility: 'FULL',
      validation: 'warn',
    });
    expect(await a.registry.config('acme', 'hr.person.hired', false)).toMatchObject({
      compatibilityLevel: 'FULL',
      validation: 'warn',
    });
    expect(await a.registry.deleteSubject('acme', 'hr.person.hired', false)).toEqual([1]);
    expect(await a.registry.deleteSubject('acme', 'hr.person.hired', true)).toEqual([1]);
    expect(await b.registry.subjects('acme', true)).not.toContain('hr.person.hired');
  });

  it("one node's publish-time cache sees the other node's registration within the refresh", async () => {
    const cache = new PublishCache({ registry: b.registry, store: b.store, refreshMs: 20 });
    expect(await cache.target('acme', 'ops.ticket.opened', 'latest')).toBeUndefined();
    await a.registry.register('acme', 'ops.ticket.opened', {
      schema: JSON.stringify({ type: 'object', required: ['title'] }),
    });
    await new Promise((resolve) => setTimeout(resolve, 40));
    const target = await cache.target('acme', 'ops.ticket.opened', 'latest');
    expect(target?.version).toBe(1);
    expect(target?.compiled.validate({}).errors).toEqual([
      { pointer: '/title', detail: 'is required' },
    ]);
  });
});
