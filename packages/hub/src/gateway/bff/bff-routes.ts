/**
 * BFF routes: `GET /bff/{name}` runs a composition for the caller (any valid token; each
 * part enforces its own API's scopes), and the admin API for compositions at
 * `/v1/bff/compositions` (scope `dictionary:write`, tenant-scoped).
 */
import { Type } from '@sinclair/typebox';
import type { Authenticator } from '../../auth/principal.ts';
import type { HubServer } from '../../http/server.ts';
import { ProblemError, ProblemType, problems } from '../../http/problem.ts';
import { requirePrincipal } from '../../http/request-principal.ts';
import { tenantFor } from '../../dictionary/index.ts';
import { CompositionSchema, compositionErrors, type Composition } from './composition.ts';
import { CompositionLimitError, type CompositionStore } from './composition-store.ts';
import type { CompositionRunner, PartOutcome } from './run-composition.ts';
import { entityTagOf, ifNoneMatchHits } from '../../http/entity-tag.ts';

const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const MAX_PER_TENANT = 500;

export function registerBffRoutes(
  server: HubServer,
  deps: { store: CompositionStore; runner: CompositionRunner; authenticator: Authenticator },
): void {
  const { store, runner } = deps;
  const scope = 'dictionary:write' as const;
  const tags = ['bff'];
  const params = Type.Object({ name: Type.String({ pattern: NAME }) });
  const tenantQuery = Type.Object({
    tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  });

  server.get(
    '/bff/:name',
    {
      // The handler authenticates: any valid token; the parts check their APIs' scopes.
      config: { public: true },
      schema: {
        summary: 'Run a BFF composition',
        description:
          "Calls the composition's parts in parallel through the gateway with this request's token and query values, then shapes them (JSONata). `parts` says which part failed and why; a required part failing fails the whole.",
        tags,
        params,
        // Any query values feed the parts; an open object, not a Record: OpenAPI has no parameter for a map.
        querystring: Type.Object({}, { additionalProperties: Type.String() }),
      },
    },
    async (request, reply) => {
      const principal = await requirePrincipal(deps.authenticator, request);
      const name = (request.params as { name: string }).name;
      const composition = await store.get(principal.tenant, name);
      if (!composition) throw problems.notFound(`no composition "${name}"`);
      const result = await runner.run(composition, request, principal);
      const body = serialised(result);
      if (composition.cacheSeconds !== undefined) {
        const etag = entityTagOf(body);
        reply
          .header('etag', etag)
          .header('cache-control', `private, max-age=${composition.cacheSeconds}`)
          .header('vary', 'authorization');
        if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send();
      } else reply.header('cache-control', 'no-store');
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  server.put(
    '/v1/bff/compositions/:name',
    {
      config: { scope },
      schema: {
        summary: 'Create or replace a BFF composition',
        tags,
        params,
        querystring: tenantQuery,
        body: CompositionSchema,
      },
    },
    async (request, reply) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const composition = request.body as Composition;
      const errors = compositionErrors(composition);
      if (errors.length > 0)
        throw problems.validation(
          `the composition is invalid: ${errors[0]!.pointer} ${errors[0]!.detail}`,
          errors,
        );
      const created = await store
        .put(tenant, request.params.name, composition, MAX_PER_TENANT)
        .catch((error: unknown) => {
          if (error instanceof CompositionLimitError) throw problems.conflict(error.message);
          throw error;
        });
      return reply.code(created ? 201 : 200).send({ name: request.params.name, ...composition });
    },
  );

  server.get(
    '/v1/bff/compositions',
    {
      config: { scope },
      schema: { summary: "The tenant's compositions", tags, querystring: tenantQuery },
    },
    async (request) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      return {
        compositions: (await store.list(tenant)).map((c) => ({ name: c.name, ...c.composition })),
      };
    },
  );

  server.get(
    '/v1/bff/compositions/:name',
    {
      config: { scope },
      schema: { summary: 'One composition', tags, params, querystring: tenantQuery },
    },
    async (request) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const c = await store.get(tenant, request.params.name);
      if (!c) throw problems.notFound(`no composition "${request.params.name}"`);
      return { name: request.params.name, ...c };
    },
  );

  server.delete(
    '/v1/bff/compositions/:name',
    {
      config: { scope },
      schema: { summary: 'Delete a composition', tags, params, querystring: tenantQuery },
    },
    async (request, reply) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      if (!(await store.delete(tenant, request.params.name)))
        throw problems.notFound(`no composition "${request.params.name}"`);
      return reply.code(204).send();
    },
  );
}

/**
 * The answer as JSON. A shape can give what JSON cannot hold: a JSONata function (`function($x)
 * {$x}`, an object with cycles) made JSON.stringify throw, an opaque 500; now the shape
 * failure it is, like any other.
 */
function serialised(result: { data: unknown; parts: Record<string, PartOutcome> }): string {
  try {
    return JSON.stringify(result);
  } catch {
    throw new ProblemError({
      status: 500,
      type: ProblemType.internal,
      title: 'Composition failed',
      detail: "the composition's shape gave a value JSON cannot hold (a function, or a cycle)",
      extensions: { parts: result.parts },
    });
  }
}
