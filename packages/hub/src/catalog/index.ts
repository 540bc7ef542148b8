/**
 * The catalog capability as app.ts builds it: migrates its tables and registers its
 * routes. `schemas` connects it to the schema registry (for `schemaRef`s); optional.
 */
import type { HubServer } from '../http/server.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { CatalogService, type SchemaLookup } from './catalog-service.ts';
import { CatalogStore } from './catalog-store.ts';
import { registerCatalogRoutes } from './catalog-routes.ts';
import { CATALOG_MIGRATIONS } from './migrations.ts';

export type { SchemaLookup } from './catalog-service.ts';

export async function createCatalog(options: {
  db: SqlDatabase;
  server: HubServer;
  env: string;
  schemas?: SchemaLookup;
}): Promise<CatalogService> {
  await options.db.migrate(CATALOG_MIGRATIONS);
  const catalog = new CatalogService({
    store: new CatalogStore(options.db),
    env: options.env,
    ...(options.schemas ? { schemas: options.schemas } : {}),
  });
  registerCatalogRoutes(options.server, catalog, options.env);
  return catalog;
}
