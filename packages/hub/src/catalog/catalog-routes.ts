/**
 * The catalog API under `/v1/catalog`. Reads need `events:read`, writes `schemas:write`;
 * everything is the caller's tenant's (another tenant's app is 404, as an absent one).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { HubServer } from '../http/server.ts';
import { problems } from '../http/problem.ts';
import { entityTagOf, ifNoneMatchHits } from '../http/entity-tag.ts';
import type { CatalogService, PublishOutcome } from './catalog-service.ts';
import { catalogOverview } from './catalog-view.ts';
import { APP_NAME } from './manifest-schema.ts';

/** Inline OpenAPI documents make manifests larger than events; still bounded. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const Change = Type.Object({
  severity: Type.Union([Type.Literal('breaking'), Type.Literal('warning'), Type.Literal('info')]),
  code: Type.String(),
  location: Type.String(),
  pointer: Type.Optional(Type.String()),
  detail: Type.String(),
});

const Report = Type.Object({
  breaking: Type.Boolean(),
  summary: Type.Object({ breaking: Type.Integer(), warning: Type.Integer(), info: Type.Integer() }),
  changes: Type.Array(Change),
});

const PublishResult = Type.Object({
  name: Type.String(),
  revision: Type.Integer({ description: '0 in a dry run of a new app' }),
  created: Type.Boolean(),
  forced: Type.Boolean({ description: 'Breaking changes were accepted with ?force=true' }),
  dryRun: Type.Boolean(),
  unchanged: Type.Boolean({
    description: 'Same manifest as the current revision: not stored again',
  }),
  report: Report,
});

const ManifestBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'A portico.app.json manifest with inline documents (`portico app schema` prints its JSON Schema)',
  },
);

const EventContract = Type.Object({
  schema: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
    description:
      "JSON Schema of the event's `data`: the registry's latest under the subject named after the type, else the first publishing app's declaration, else the first consumer's; null when none",
  }),
  publishers: Type.Array(Type.String(), { description: 'Apps publishing the type, by name' }),
  consumers: Type.Array(Type.String(), { description: 'Apps consuming the type, by name' }),
});

const EventContractsBody = Type.Object({
  events: Type.Record(Type.String(), EventContract, {
    description: 'By event type (domain.entity.action)',
  }),
});

const nameParams = Type.Object({ name: Type.String({ pattern: APP_NAME }) });

export function registerCatalogRoutes(
  server: HubServer,
  catalog: CatalogService,
  env: string,
): void {
  const tags = ['catalog'];
  const present = (o: PublishOutcome) => ({
    name: o.app.name,
    revision: o.app.revision,
    created: o.created,
    forced: o.forced,
    dryRun: o.dryRun,
    unchanged: o.unchanged,
    report: o.report,
  });

  async function visible(tenant: string, name: string) {
    const app = await catalog.store.get(tenant, name);
    if (!app) throw problems.notFound(`no app "${name}" in the catalog`);
    return app;
  }

  server.put(
    '/v1/catalog/apps/:name',
    {
      config: { scope: 'schemas:write' },
      bodyLimit: MAX_MANIFEST_BYTES,
      schema: {
        summary: 'Register or update a micro-app (checks everything first)',
        description:
          'Validates the manifest, its OpenAPI documents and the AsyncAPI its events make, then compares it with the current revision and with the apps consuming its events. Breaking changes are 409 with the report in `changes`, unless `force=true` (recorded in the revision). `dryRun=true` only reports.',
        tags,
        params: nameParams,
        querystring: Type.Object({
          force: Type.Optional(
            Type.Boolean({ default: false, description: 'Accept breaking changes' }),
          ),
          dryRun: Type.Optional(
            Type.Boolean({ default: false, description: 'Only check and report' }),
          ),
        }),
        body: ManifestBody,
        response: { 200: PublishResult, 201: PublishResult },
      },
    },
    async (request, reply) => {
      const force = request.query.force ?? false;
      const dryRun = request.query.dryRun ?? false;
      const outcome = await catalog.publish(
        request.principal.tenant,
        request.params.name,
        request.body,
        {
          force,
          dryRun,
        },
      );
      if (outcome.forced)
        request.log.warn(
          {
            app: outcome.app.name,
            revision: outcome.app.revision,
            breaking: outcome.report.summary.breaking,
          },
          'catalog: breaking changes accepted with force',
        );
      if (outcome.created && !dryRun)
        reply.code(201).header('location', `/v1/catalog/apps/${outcome.app.name}`);
      return present(outcome);
    },
  );

  server.post(
    '/v1/catalog/apps/:name/check',
    {
      config: { scope: 'events:read' },
      bodyLimit: MAX_MANIFEST_BYTES,
      schema: {
        summary: 'Check a manifest against the catalog without publishing (for CI)',
        description: 'The same checks as publishing; breaking changes are reported, not refused.',
        tags,
        params: nameParams,
        body: ManifestBody,
        response: { 200: PublishResult },
      },
    },
    async (request) =>
      present(
        await catalog.publish(request.principal.tenant, request.params.name, request.body, {
          force: false,
          dryRun: true,
        }),
      ),
  );

  server.get(
    '/v1/catalog',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "The tenant's catalog: apps, APIs, and events with their producers and consumers",
        tags,
      },
    },
    async (request) => catalogOverview(await catalog.store.list(request.principal.tenant), env),
  );

  server.get(
    '/v1/catalog/contracts',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "The tenant's event contracts: each type's data schema, publishers and consumers",
        description:
          'What a browser shell validates its client bus against, and what `portico types` turns into TypeScript. ETag / If-None-Match (304).',
        tags,
        response: { 200: EventContractsBody },
      },
    },
    async (request, reply) => {
      const body = JSON.stringify(await catalog.eventContracts(request.principal.tenant));
      const etag = entityTagOf(body);
      reply
        .header('etag', etag)
        .header('cache-control', 'private, no-cache')
        .header('vary', 'authorization');
      // The body is sent as serialized for its tag; the schema above documents its shape.
      const untyped = reply as unknown as FastifyReply;
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return untyped.code(304).send();
      return untyped.type('application/json; charset=utf-8').send(body);
    },
  );

  server.get(
    '/v1/catalog/asyncapi.json',
    {
      config: { scope: 'events:read' },
      schema: { summary: "The tenant's portal events as one AsyncAPI 3.0 document", tags },
    },
    async (request) => catalog.asyncApi(request.principal.tenant),
  );

  server.get(
    '/v1/catalog/apps/:name',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "An app's current manifest (documents inline) and revision",
        tags,
        params: nameParams,
      },
    },
    async (request) => {
      const app = await visible(request.principal.tenant, request.params.name);
      return {
        revision: app.revision,
        createdAt: new Date(app.createdAt).toISOString(),
        updatedAt: new Date(app.updatedAt).toISOString(),
        manifest: app.manifest,
      };
    },
  );

  server.get(
    '/v1/catalog/apps/:name/revisions',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "An app's last revisions with the changes each made",
        tags,
        params: nameParams,
      },
    },
    async (request) => {
      await visible(request.principal.tenant, request.params.name);
      const revisions = await catalog.store.revisions(
        request.principal.tenant,
        request.params.name,
      );
      return {
        revisions: revisions.map((r) => ({ ...r, createdAt: new Date(r.createdAt).toISOString() })),
      };
    },
  );

  server.get(
    '/v1/catalog/apps/:name/openapi.json',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "One of an app's APIs as registered (OpenAPI 3.x)",
        description: '`api` names the API; it may be left out when the app provides exactly one.',
        tags,
        params: nameParams,
        querystring: Type.Object({
          api: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        }),
      },
    },
    async (request) => {
      const app = await visible(request.principal.tenant, request.params.name);
      const apis = app.manifest.apis ?? [];
      const wanted = request.query.api;
      if (wanted === undefined && apis.length !== 1)
        throw problems.validation(
          apis.length === 0
            ? `app "${app.name}" provides no API`
            : `app "${app.name}" provides ${apis.length} APIs: choose one with ?api= (${apis.map((a) => a.name).join(', ')})`,
          [{ pointer: '/api', detail: 'is required for this app', in: 'query' }],
        );
      const api = wanted === undefined ? apis[0] : apis.find((a) => a.name === wanted);
      if (!api) throw problems.notFound(`app "${app.name}" has no API "${wanted}"`);
      return api.openapi;
    },
  );

  server.get(
    '/v1/catalog/apps/:name/asyncapi.json',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'The events an app publishes and consumes, as AsyncAPI 3.0',
        tags,
        params: nameParams,
      },
    },
    async (request) =>
      catalog.asyncApi(
        request.principal.tenant,
        await visible(request.principal.tenant, request.params.name),
      ),
  );

  server.delete(
    '/v1/catalog/apps/:name',
    {
      config: { scope: 'schemas:write' },
      schema: { summary: 'Remove an app from the catalog', tags, params: nameParams },
    },
    async (request, reply) => {
      if (!(await catalog.store.delete(request.principal.tenant, request.params.name)))
        throw problems.notFound(`no app "${request.params.name}" in the catalog`);
      return reply.code(204).send();
    },
  );
}
