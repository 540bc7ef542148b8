/**
 * `GET /v1/dictionary`: what an app shell fetches first. Public-or-authenticated: with a
 * token, the caller's tenant; without one, `?tenant=` of a tenant that made its dictionary
 * anonymous-readable. An override set presented by header or cookie is applied when it is
 * the tenant's and live; otherwise ignored, and the response says so.
 */
import { Type } from '@sinclair/typebox';
import type { Authenticator } from '../auth/principal.ts';
import type { HubServer } from '../http/server.ts';
import { problems } from '../http/problem.ts';
import { optionalPrincipal } from '../http/request-principal.ts';
import type { DictionaryCache } from './dictionary-cache.ts';
import type { DictionaryStore } from './dictionary-store.ts';
import { findOverride } from './find-override.ts';
import { NAME_PATTERN, TENANT_PATTERN, type ClientSettings } from './model.ts';
import { OVERRIDE_HEADER, OVERRIDE_STATUS_HEADER, presentedOverride } from './override-id.ts';
import { DomainsRenderer } from './rendered-domains.ts';
import { tenantFor } from './tenant-of-request.ts';
import { entityTagOf, ifNoneMatchHits } from '../http/entity-tag.ts';

export type ReadRouteDeps = {
  store: DictionaryStore;
  cache: DictionaryCache;
  authenticator: Authenticator;
  /** `Cache-Control: max-age` of dictionary responses. */
  maxAgeSeconds: number;
};

export function registerReadRoute(server: HubServer, deps: ReadRouteDeps): void {
  const { store, cache, authenticator, maxAgeSeconds } = deps;
  const renderer = new DomainsRenderer();

  server.get(
    '/v1/dictionary',
    {
      // Public-or-authenticated: the handler authenticates when a token is sent.
      config: { public: true },
      schema: {
        summary: 'The service dictionary: domains, APIs, versions and client settings',
        description:
          "With a bearer token: the caller's tenant. Without one: `?tenant=` of a tenant whose dictionary is anonymous-readable. `?app=` keeps only what that micro-frontend may see and adds its client settings. An override set is applied from the `x-portico-override` header or the `portico-override` cookie; `x-portico-override-status` says `applied`, `unknown` or `expired`. ETag / If-None-Match (304).",
        tags: ['dictionary'],
        querystring: Type.Object({
          app: Type.Optional(Type.String({ pattern: NAME_PATTERN })),
          tenant: Type.Optional(Type.String({ pattern: TENANT_PATTERN })),
        }),
      },
    },
    async (request, reply) => {
      const { app, tenant: requested } = request.query;
      const principal = await optionalPrincipal(authenticator, request);
      let tenant: string;
      if (principal) tenant = tenantFor(principal, requested);
      else if (requested !== undefined) tenant = requested;
      else
        throw problems.unauthorized(
          'send a bearer token, or ?tenant= for a tenant whose dictionary is public',
        );
      // The same answer for an unknown tenant and a private one: nothing to enumerate.
      const notPublic = () =>
        problems.unauthorized(
          `the dictionary of tenant "${tenant}" is not public: send a bearer token`,
        );
      // Anonymous and not cached here: read the tenant's flag first (one primary-key query).
      // Loading the dictionary to learn it cost 3 queries and a cache entry per made-up
      // tenant name, so a stream of them pushed every real tenant out of the cache. A cached
      // copy decides on its own (no extra query), revision-checked as before.
      if (!principal && !cache.has(tenant) && !(await store.isAnonymous(tenant))) throw notPublic();
      const snapshot = await cache.snapshot(tenant);
      // Still checked: the copy may be cached, or the tenant turned private since the read.
      if (!principal && !snapshot.anonymous) throw notPublic();

      const override = await findOverride(store, tenant, presentedOverride(request.headers));
      if (override.status) reply.header(OVERRIDE_STATUS_HEADER, override.status);
      const domains = renderer.render(snapshot, app, override.set);

      // The body is assembled around the rendered domains (key order as ever: tenant, app,
      // domains, settings, override), and its ETag covers the domains by their tag.
      const head = JSON.stringify({ tenant, ...(app !== undefined ? { app } : {}) }).slice(0, -1);
      const tail = JSON.stringify({
        settings: settingsFor(snapshot.settings, app),
        ...(override.set
          ? {
              override: {
                id: override.set.id,
                name: override.set.name,
                expiresAt: new Date(override.set.expiresAt).toISOString(),
              },
            }
          : {}),
      }).slice(1);
      const etag = entityTagOf(`${head}\0${domains.tag}\0${tail}`);
      const maxAge = override.set
        ? Math.max(
            0,
            Math.min(maxAgeSeconds, Math.floor((override.set.expiresAt - Date.now()) / 1000)),
          )
        : maxAgeSeconds;
      reply
        .header('etag', etag)
        .header('cache-control', `private, max-age=${maxAge}, must-revalidate`)
        .header('vary', `authorization, cookie, ${OVERRIDE_HEADER}`);
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply
        .type('application/json; charset=utf-8')
        .send(`${head},"domains":${domains.json},${tail}`);
    },
  );
}

/** The `*` defaults with the app's own settings over them (feature switches merged). */
function settingsFor(all: Map<string, ClientSettings>, app: string | undefined): ClientSettings {
  const defaults = all.get('*') ?? {};
  const own = app !== undefined ? all.get(app) : undefined;
  if (!own) return defaults;
  const features = { ...defaults.features, ...own.features };
  return {
    ...defaults,
    ...own,
    ...(Object.keys(features).length > 0 ? { features } : {}),
  };
}
