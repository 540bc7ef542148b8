/**
 * The service dictionary capability, as app.ts builds it: tables, the admin API, the public
 * `GET /v1/dictionary`, and `resolve` for the gateway (which never imports the internals).
 */
import { Gauge, type Registry } from 'prom-client';
import type { Authenticator } from '../auth/principal.ts';
import type { HubServer } from '../http/server.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { DictionaryCache } from './dictionary-cache.ts';
import { DictionaryStore } from './dictionary-store.ts';
import { DICTIONARY_MIGRATIONS } from './migrations.ts';
import type { Api, ApiVersion } from './model.ts';
import { registerReadRoute } from './read-route.ts';
import { findOverride, type OverrideStatus } from './find-override.ts';
import { applyPatch } from './render.ts';

export type { Api, ApiVersion, Policy } from './model.ts';
export { MIN_PER_SECOND, upstreamProblem } from './model.ts';
export { lifecycleHeaders } from './render.ts';
export { presentedOverride, OVERRIDE_STATUS_HEADER } from './override-id.ts';
export type { OverrideStatus } from './find-override.ts';
export { tenantFor } from './tenant-of-request.ts';

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
  /** Where `portico_dictionary_cached_tenants` is registered; absent: no metric. */
  metrics?: Registry;
};

export type Resolved = {
  found?: { api: Api; version: ApiVersion };
  /** Set when an override id was presented: whether it was applied, unknown or expired. */
  override?: OverrideStatus;
};

export type Dictionary = {
  /**
   * A tenant's API version, from the node's cached copy (at most `recheckMs` stale), with
   * the presented override set's patch applied when it is the tenant's and live.
   */
  resolve(tenant: string, api: string, version: string, overrideId?: string): Promise<Resolved>;
};

/** Migrates the tables and registers the routes (call before the server is ready). */
export async function createDictionary(options: DictionaryOptions): Promise<Dictionary> {
  await options.db.migrate(DICTIONARY_MIGRATIONS);
  const store = new DictionaryStore(options.db);
  const cache = new DictionaryCache(store, {
    ...(options.recheckMs !== undefined ? { recheckMs: options.recheckMs } : {}),
  });
  if (options.metrics)
    new Gauge({
      name: 'portico_dictionary_cached_tenants',
      help: 'Tenants whose dictionary this node holds in memory (bounded; past the bound the oldest loaded is dropped)',
      registers: [options.metrics],
      collect() {
        this.set(cache.size);
      },
    });
  registerReadRoute(options.server, {
    store,
    cache,
    authenticator: options.authenticator,
    maxAgeSeconds: options.config.maxAgeSeconds,
  });
  registerAdminRoutes(options.server, { store, cache, ...options.config });
  return {
    async resolve(tenant, api, version, overrideId) {
      const snapshot = await cache.snapshot(tenant);
      const found = snapshot.index.get(`${api}\0${version}`);
      if (overrideId === undefined) return found ? { found } : {};
      const { set, status } = await findOverride(store, tenant, overrideId);
      const patch = set?.patch.filter((p) => p.api === api && p.version === version) ?? [];
      if (patch.length === 0)
        return { ...(found ? { found } : {}), ...(status ? { override: status } : {}) };
      const [patched] = applyPatch(found ? [found.api] : [], patch);
      const patchedVersion = patched!.versions.find((v) => v.version === version)!;
      return { found: { api: patched!, version: patchedVersion }, override: 'applied' };
    },
  };
}
