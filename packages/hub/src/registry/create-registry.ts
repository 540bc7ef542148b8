/**
 * The schema registry capability, as app.ts builds it: its tables on the hub's state
 * store, the Confluent-shaped API under `/v1/registry`, and the publish-time checks
 * (schema validation, then the domain policy) for the ingestor.
 */
import type { Registry } from 'prom-client';
import type { PorticoConfig } from '../config/schema.ts';
import type { HubServer } from '../http/server.ts';
import type { PublishCheck } from '../events/publish-check.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import type { CompatibilityLevel } from './compatibility/index.ts';
import { REGISTRY_MIGRATIONS } from './migrations.ts';
import { PublishCache } from './publish-cache.ts';
import { createPublishChecks } from './publish-validation.ts';
import { registerRegistryRoutes } from './registry-routes.ts';
import { RegistryStore } from './registry-store.ts';
import { SchemaCompiler } from './schema-compiler.ts';
import { SchemaRegistry } from './schema-registry.ts';

export type SchemaRegistryCapability = {
  registry: SchemaRegistry;
  /** In order: `schema` (validation at publish), then `policy` (per-domain rules). */
  publishChecks: PublishCheck[];
};

/** Migrates the tables and registers the routes (call before the server is ready). */
export async function createSchemaRegistry(options: {
  db: SqlDatabase;
  server: HubServer;
  metrics: Registry;
  config: PorticoConfig['registry'];
}): Promise<SchemaRegistryCapability> {
  const { db, server, config } = options;
  await db.migrate(REGISTRY_MIGRATIONS);
  const store = new RegistryStore(db);
  const registry = new SchemaRegistry({
    store,
    compiler: new SchemaCompiler(),
    defaults: {
      compatibility: config.compatibility as CompatibilityLevel,
      validation: config.validation,
      allowOptionalPropertyInOpenModel: config.allowOptionalPropertyInOpenModel,
    },
    // The cache needs the registry, and the registry tells the cache about its writes
    // (only ever after this function returned, so `cache` is set by then).
    onChange: () => cache.invalidate(),
    onCompiled: (tenant, id, compiled) => cache.prime(tenant, id, compiled),
  });
  const cache = new PublishCache({ registry, store, refreshMs: config.cacheRefreshMs });
  registerRegistryRoutes(server, { registry });
  const logger = server.log.child({ component: 'registry' });
  for (const [domain, policy] of Object.entries(config.domains))
    logger.info({ domain, ...policy }, 'publish policy in force');
  return {
    registry,
    publishChecks: createPublishChecks({
      cache,
      domains: config.domains,
      logger,
      metrics: options.metrics,
    }),
  };
}
