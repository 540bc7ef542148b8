/**
 * The dictionary's admin API (scope `dictionary:write`, `?tenant=` for another tenant with
 * `admin`): APIs and their versions, per-app client settings, anonymous access, and
 * override sets for testing in production. Another tenant's things are 404, as absent ones.
 */
import { Type } from '@sinclair/typebox';
import type { HubServer } from '../http/server.ts';
import { problems, type FieldError } from '../http/problem.ts';
import { entityTagOf, writePreconditionHolds } from '../http/entity-tag.ts';
import type { DictionaryCache } from './dictionary-cache.ts';
import {
  DictionaryLimitError,
  DictionaryPreconditionError,
  type DictionaryStore,
  type OverrideSet,
  type StoredPrecondition,
} from './dictionary-store.ts';
import {
  ApiSchema,
  apiErrors,
  NAME_PATTERN,
  PatchSchema,
  patchErrors,
  SettingsSchema,
  TENANT_PATTERN,
  toApi,
  type ApiInput,
  type ClientSettings,
  type PatchEntry,
} from './model.ts';
import { newOverrideId, OVERRIDE_COOKIE, OVERRIDE_HEADER } from './override-id.ts';
import { tenantFor } from './tenant-of-request.ts';

export type AdminRouteDeps = {
  store: DictionaryStore;
  cache: DictionaryCache;
  overrideMaxTtlSeconds: number;
  maxOverridesPerTenant: number;
  maxApisPerTenant: number;
};

const scope = 'dictionary:write' as const;
const tags = ['dictionary'];
const TenantQuery = Type.Object({
  tenant: Type.Optional(
    Type.String({ pattern: TENANT_PATTERN, description: 'Another tenant (admin only)' }),
  ),
});
const NameParams = Type.Object({ name: Type.String({ pattern: NAME_PATTERN }) });
const AppParams = Type.Object({
  app: Type.String({
    pattern: `${NAME_PATTERN}|^\\*$`,
    description: 'A micro-frontend, or `*` for the defaults every app gets',
  }),
});

function invalid(errors: FieldError[]): never {
  const first = errors[0]!;
  throw problems.validation(`the request is invalid: ${first.pointer} ${first.detail}`, errors);
}

/** A cap the store refused to pass is a 409, like any other conflict with what is stored. */
function limitToConflict(error: unknown): never {
  throw error instanceof DictionaryLimitError ? problems.conflict(error.message) : error;
}

function preconditionToProblem(error: unknown): never {
  throw error instanceof DictionaryPreconditionError
    ? problems.preconditionFailed(error.message)
    : error;
}

/** An API's entity tag: of its JSON as stored (GET answers it as stored). */
const apiTag = (api: unknown) => entityTagOf(JSON.stringify(api));

/** Conditional writes (RFC 9110): `If-Match` with an API's ETag, or `If-None-Match: *`. */
const Preconditions = Type.Object({
  'if-match': Type.Optional(
    Type.String({ maxLength: 4096, description: 'Write only if the API is still this version' }),
  ),
  'if-none-match': Type.Optional(
    Type.String({ maxLength: 4096, description: '`*`: create only, never replace' }),
  ),
});

function preconditionOf(headers: {
  'if-match'?: string | undefined;
  'if-none-match'?: string | undefined;
}): StoredPrecondition | undefined {
  if (headers['if-match'] === undefined && headers['if-none-match'] === undefined) return undefined;
  return (stored) =>
    writePreconditionHolds(headers, stored === undefined ? undefined : entityTagOf(stored));
}

export function registerAdminRoutes(server: HubServer, deps: AdminRouteDeps): void {
  const { store, cache } = deps;
  const changed = (tenant: string) => cache.invalidate(tenant);

  server.get(
    '/v1/dictionary/apis',
    {
      config: { scope },
      schema: {
        summary: "The tenant's APIs as stored, with upstreams and policies",
        tags,
        querystring: TenantQuery,
      },
    },
    async (request) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const snapshot = await cache.snapshot(tenant);
      return { tenant, apis: snapshot.apis, anonymous: snapshot.anonymous };
    },
  );

  server.get(
    '/v1/dictionary/apis/:name',
    {
      config: { scope },
      schema: { summary: 'One API as stored', tags, params: NameParams, querystring: TenantQuery },
    },
    async (request, reply) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const api = (await cache.snapshot(tenant)).apis.find((a) => a.name === request.params.name);
      if (!api) throw problems.notFound(`no API "${request.params.name}"`);
      return reply.header('etag', apiTag(api)).send(api);
    },
  );

  server.put(
    '/v1/dictionary/apis/:name',
    {
      config: { scope },
      schema: {
        summary: 'Create or replace an API with all its versions',
        tags,
        params: NameParams,
        querystring: TenantQuery,
        headers: Preconditions,
        body: ApiSchema,
      },
    },
    async (request, reply) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const input = request.body as ApiInput;
      const errors = apiErrors(input);
      if (errors.length > 0) invalid(errors);
      const api = toApi(request.params.name, input);
      const created = await store
        .putApi(tenant, api, deps.maxApisPerTenant, preconditionOf(request.headers))
        .catch(limitToConflict)
        .catch(preconditionToProblem);
      changed(tenant);
      return reply
        .code(created ? 201 : 200)
        .header('etag', apiTag(api))
        .send(api);
    },
  );

  server.delete(
    '/v1/dictionary/apis/:name',
    {
      config: { scope },
      schema: {
        summary: 'Delete an API',
        tags,
        params: NameParams,
        querystring: TenantQuery,
        headers: Preconditions,
      },
    },
    async (request, reply) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const deleted = await store
        .deleteApi(tenant, request.params.name, preconditionOf(request.headers))
        .catch(preconditionToProblem);
      if (!deleted) throw problems.notFound(`no API "${request.params.name}"`);
      changed(tenant);
      return reply.code(204).send();
    },
  );

  server.put(
    '/v1/dictionary/settings/:app',
    {
      config: { scope },
      schema: {
        summary: 'Set the client settings served to one app (or `*`, the defaults)',
        tags,
        params: AppParams,
        querystring: TenantQuery,
        body: SettingsSchema,
      },
    },
    async (request) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      await store.putSettings(tenant, request.params.app, request.body as ClientSettings);
      changed(tenant);
      return { app: request.params.app, settings: request.body };
    },
  );

  server.get(
    '/v1/dictionary/settings/:app',
    {
      config: { scope },
      schema: {
        summary: "An app's own settings",
        tags,
        params: AppParams,
        querystring: TenantQuery,
      },
    },
    async (request) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const settings = (await cache.snapshot(tenant)).settings.get(request.params.app);
      if (!settings) throw problems.notFound(`no settings for app "${request.params.app}"`);
      return { app: request.params.app, settings };
    },
  );

  server.delete(
    '/v1/dictionary/settings/:app',
    {
      config: { scope },
      schema: {
        summary: "Remove an app's settings",
        tags,
        params: AppParams,
        querystring: TenantQuery,
      },
    },
    async (request, reply) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      if (!(await store.deleteSettings(tenant, request.params.app)))
        throw problems.notFound(`no settings for app "${request.params.app}"`);
      changed(tenant);
      return reply.code(204).send();
    },
  );

  server.put(
    '/v1/dictionary/access',
    {
      config: { scope },
      schema: {
        summary: 'Whether anonymous callers may read the dictionary with ?tenant=',
        tags,
        querystring: TenantQuery,
        body: Type.Object({ anonymous: Type.Boolean() }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const { anonymous } = request.body as { anonymous: boolean };
      await store.setAnonymous(tenant, anonymous);
      changed(tenant);
      return { tenant, anonymous };
    },
  );

  const OverrideBody = Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 128 }),
      ttlSeconds: Type.Integer({
        minimum: 1,
        maximum: deps.overrideMaxTtlSeconds,
        // Above the configured maximum, the default refused requests that never named it.
        default: Math.min(3600, deps.overrideMaxTtlSeconds),
        description: 'Lifetime; the set is ignored after it (default: an hour)',
      }),
      patch: Type.Array(PatchSchema, { minItems: 1, maxItems: 100 }),
    },
    { additionalProperties: false },
  );

  const present = (set: OverrideSet) => ({
    id: set.id,
    name: set.name,
    patch: set.patch,
    createdBy: set.createdBy,
    createdAt: new Date(set.createdAt).toISOString(),
    expiresAt: new Date(set.expiresAt).toISOString(),
    expired: set.expiresAt <= Date.now(),
    use: { header: `${OVERRIDE_HEADER}: ${set.id}`, cookie: `${OVERRIDE_COOKIE}=${set.id}` },
  });

  server.post(
    '/v1/dictionary/overrides',
    {
      config: { scope },
      schema: {
        summary: 'Create an override set (testing in production)',
        description:
          'A named patch over the dictionary (point a version at another URL, add a version), live until it expires. Requests presenting its id by header or cookie get the patched dictionary.',
        tags,
        querystring: TenantQuery,
        body: OverrideBody,
      },
    },
    async (request, reply) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const body = request.body as { name: string; ttlSeconds: number; patch: PatchEntry[] };
      const errors = patchErrors(body.patch);
      if (errors.length > 0) invalid(errors);
      const now = Date.now();
      // Expired sets are kept a day (callers are told "expired", not "unknown"), then purged.
      await store.purgeOverrides(now - 86_400_000);
      const set: OverrideSet = {
        id: newOverrideId(),
        tenant,
        name: body.name,
        patch: body.patch,
        createdBy: request.principal.subject,
        createdAt: now,
        expiresAt: now + body.ttlSeconds * 1000,
      };
      await store.createOverride(set, deps.maxOverridesPerTenant).catch(limitToConflict);
      return reply
        .code(201)
        .header('location', `/v1/dictionary/overrides/${set.id}`)
        .send(present(set));
    },
  );

  server.get(
    '/v1/dictionary/overrides',
    {
      config: { scope },
      schema: {
        summary: "The tenant's override sets, newest first",
        tags,
        querystring: TenantQuery,
      },
    },
    async (request) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      return {
        overrides: (await store.listOverrides(tenant, deps.maxOverridesPerTenant)).map(present),
      };
    },
  );

  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
  server.get(
    '/v1/dictionary/overrides/:id',
    {
      config: { scope },
      schema: { summary: 'One override set', tags, params: IdParams, querystring: TenantQuery },
    },
    async (request) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const set = await store.getOverride(request.params.id);
      if (!set || set.tenant !== tenant) throw problems.notFound('no such override set');
      return present(set);
    },
  );

  server.delete(
    '/v1/dictionary/overrides/:id',
    {
      config: { scope },
      schema: {
        summary: 'Delete an override set',
        tags,
        params: IdParams,
        querystring: TenantQuery,
      },
    },
    async (request, reply) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      if (!(await store.deleteOverride(tenant, request.params.id)))
        throw problems.notFound('no such override set');
      return reply.code(204).send();
    },
  );
}
