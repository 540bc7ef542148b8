import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { REGISTRY_MIGRATIONS } from './migrations.ts';
import { PublishCache } from './publish-cache.ts';
import { RegistryStore } from './registry-store.ts';
import { SchemaCompiler } from './schema-compiler.ts';
import { SchemaRegistry } from './schema-registry.ts';

/** Counts compiles: each one is an ajv code generation, seconds for a very large schema. */
class CountingCompiler extends SchemaCompiler {
  compiles = 0;
  override compile(...args: Parameters<SchemaCompiler['compile']>) {
    this.compiles++;
    return super.compile(...args);
  }
}

async function setup() {
  const db = openSqliteDatabase(':memory:');
  await db.migrate(REGISTRY_MIGRATIONS);
  const store = new RegistryStore(db);
  const compiler = new CountingCompiler();
  let now = 0;
  const registry: SchemaRegistry = new SchemaRegistry({
    store,
    compiler,
    onChange: () => cache.invalidate(),
    onCompiled: (tenant, id, compiled) => cache.prime(tenant, id, compiled),
  });
  const cache = new PublishCache({ registry, store, refreshMs: 1000, now: () => now });
  return { db, registry, cache, compiler, advance: (ms: number) => (now += ms) };
}

const schema = JSON.stringify({ type: 'object', required: ['a'] });

describe('PublishCache', () => {
  it('uses the validator compiled at registration: the first event compiles nothing', async () => {
    const { registry, cache, compiler, db } = await setup();
    await registry.register('t', 'x.y.z', { schema });
    expect(compiler.compiles).toBe(1);
    const target = await cache.target('t', 'x.y.z', 'latest');
    expect(target?.compiled.validate({}).errors).toEqual([
      { pointer: '/a', detail: 'is required' },
    ]);
    expect(compiler.compiles).toBe(1);
    await db.close();
  });

  it('answers hits synchronously while fresh, and forgets them after a write', async () => {
    const { registry, cache, advance, db } = await setup();
    expect(cache.peek('t', 'x.y.z', 'latest')).toBeUndefined();
    expect(await cache.target('t', 'x.y.z', 'latest')).toBeUndefined();
    expect(cache.peek('t', 'x.y.z', 'latest')).toBeNull();
    await registry.register('t', 'x.y.z', { schema });
    expect(cache.peek('t', 'x.y.z', 'latest')).toBeUndefined();
    expect((await cache.target('t', 'x.y.z', 'latest'))?.version).toBe(1);
    expect(cache.peek('t', 'x.y.z', 'latest')?.version).toBe(1);
    // Past the refresh interval a hit is not trusted until the store has been asked.
    advance(1500);
    expect(cache.peek('t', 'x.y.z', 'latest')).toBeUndefined();
    expect((await cache.target('t', 'x.y.z', 'latest'))?.version).toBe(1);
    expect(cache.peek('t', 'x.y.z', 'latest')?.version).toBe(1);
    // Tenants do not share entries.
    expect(cache.peek('u', 'x.y.z', 'latest')).toBeUndefined();
    expect(await cache.target('u', 'x.y.z', 'latest')).toBeUndefined();
    await db.close();
  });
});
