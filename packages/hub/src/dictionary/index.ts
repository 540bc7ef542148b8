/**
 * The service dictionary capability, as app.ts builds it: tables, the admin API, the public
 * `GET /v1/dictionary`, and `resolve` for the gateway (which never imports the internals).
 */
import type { Authenticator } from '../auth/principal.ts';
import type { HubServer } from '../http/server.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { DictionaryCache } from './dictionary-cache.ts';
import { DictionaryStore } from './dictionary-store.ts';
import { DICTIONARY_MIGRATIONS } from './migrations.ts';
import type { Api, ApiVersion } from './model.ts';
import { registerReadRoute } from './read-route.ts';

export type { Api, ApiVersion, Policy } from './model.ts';
export { lifecycleHeaders } from './render.ts';

export type DictionaryOptions = {
  db: SqlDatabase;
  server: HubServer;
  authenticator: Authenticator;
  config: {
    maxAgeSeconds: number;
    overrideMaxTtlSeconds: number;
    maxOverridesPerTenant: number;
    maxApisPerTenant: number;
  };
  /** How long a node trusts its cached copy before checking the store. Default 1000 ms. */
  recheckMs?: number;
};

export type Dictionary = {
  /** A tenant's API version, from the node's cached copy (at most `recheckMs` stale). */
  resolve(
    tenant: string,
    api: string,
    version: string,
  ): Promise<{ api: Api; version: ApiVersion } | undefined>;
};

/** Migrates the tables and registers the routes (call before the server is ready). */
export async function createDictionary(options: DictionaryOptions): Promise<Dictionary> {
  await options.db.migrate(DICTIONARY_MIGRATIONS);
  const store = new DictionaryStore(options.db);
  const cache = new DictionaryCache(store, {
    ...(options.recheckMs !== undefined ? { recheckMs: options.recheckMs } : {}),
  });
  registerReadRoute(options.server, {
    store,
    cache,
    authenticator: options.authenticator,
    maxAgeSeconds: options.config.maxAgeSeconds,
  });
  registerAdminRoutes(options.server, { store, cache, ...options.config });
  return {
    async resolve(tenant, api, version) {
      return (await cache.snapshot(tenant)).index.get(`${api}\0${version}`);
    },
  };
}
