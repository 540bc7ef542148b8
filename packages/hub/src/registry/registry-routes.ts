/**
 * The Confluent Schema Registry REST API (JSON Schema only), mounted under a prefix
 * (`/v1/registry`) so that Confluent clients work against Portico. Reads need
 * `events:read`, writes `schemas:write`; the tenant is always the caller's: another
 * tenant's subjects and ids are 404, as absent ones.
 */
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HubServer } from '../http/server.ts';
import { toProblem } from '../http/server.ts';
import { withConfluentFields } from './registry-errors.ts';
import { GLOBAL } from './registry-store.ts';
import {
  describeIncompatibility,
  parseVersion,
  type EffectiveConfig,
  type SchemaRegistry,
} from './schema-registry.ts';

/** Confluent clients send these; their bodies are JSON. */
export const CONFLUENT_CONTENT_TYPES = [
  'application/vnd.schemaregistry.v1+json',
  'application/vnd.schemaregistry+json',
];

const Subject = Type.String({
  // At most 100 characters (subjects are path parameters and index keys).
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$',
  description: 'Letters, digits, ".", "_", "-". By convention the event type it describes',
});
/**
 * Schema ids and versions are PostgreSQL `integer` columns: a larger number was a 500 in
 * cluster mode ("out of range for type integer"), where SQLite answered 404 or 422.
 */
const MAX_INT32 = 2_147_483_647;
const Reference = Type.Object({
  // 512: up to 2 kB of UTF-8 in the primary key of registry_schema_refs; 1024 CJK characters
  // were over PostgreSQL's ~2.7 kB limit for an index entry (a 500 in cluster mode).
  name: Type.String({ minLength: 1, maxLength: 512, description: 'The name `$ref` uses' }),
  subject: Subject,
  version: Type.Integer({ minimum: 1, maximum: MAX_INT32 }),
});
const SchemaBody = Type.Object(
  {
    schema: Type.String({ minLength: 1, description: 'The JSON Schema, as a JSON string' }),
    schemaType: Type.Optional(
      Type.String({ description: '"JSON" (the only type Portico holds); absent means JSON' }),
    ),
    references: Type.Optional(Type.Array(Reference, { maxItems: 100 })),
  },
  // Newer Confluent clients also send `metadata` and `ruleSet`: accepted and ignored.
  { additionalProperties: true },
);
const VersionView = Type.Object({
  subject: Type.String(),
  version: Type.Integer(),
  id: Type.Integer(),
  schemaType: Type.Literal('JSON'),
  schema: Type.String(),
  references: Type.Optional(Type.Array(Reference)),
});
const SchemaView = Type.Object({
  schema: Type.String(),
  schemaType: Type.Literal('JSON'),
  references: Type.Optional(Type.Array(Reference)),
});
const ConfigBody = Type.Object(
  {
    // A number is read as text, as Confluent's registry does, so it is an unknown level
    // (422, 42203) rather than a schema error.
    compatibility: Type.Optional(
      Type.Union([Type.String(), Type.Number()], {
        description: 'BACKWARD, …_TRANSITIVE, FORWARD, FULL, NONE',
      }),
    ),
    compatibilityLevel: Type.Optional(
      Type.Union([Type.String(), Type.Number()], { description: 'Alias of compatibility' }),
    ),
    validation: Type.Optional(
      Type.String({
        description: 'Portico: "reject" or "warn" events that fail the schema at publish',
      }),
    ),
    allowOptionalPropertyInOpenModel: Type.Optional(
      Type.Boolean({
        description:
          'Portico: a new optional property in an open content model is compatible (default true; false = Confluent/Apicurio)',
      }),
    ),
  },
  { additionalProperties: true },
);
const ConfigView = Type.Object({
  compatibilityLevel: Type.String(),
  validation: Type.String(),
  allowOptionalPropertyInOpenModel: Type.Boolean(),
});
const SubjectParams = Type.Object({ subject: Subject });
const VersionParams = Type.Object({ subject: Subject, version: Type.String({ maxLength: 32 }) });
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: MAX_INT32 }) });
const Deleted = Type.Object({ deleted: Type.Boolean({ default: false }) });
const Permanent = Type.Object({ permanent: Type.Boolean({ default: false }) });
const CompatibilityView = Type.Object({
  is_compatible: Type.Boolean(),
  messages: Type.Array(Type.String()),
  compatibility: Type.String(),
  incompatibilities: Type.Array(
    Type.Object({ pointer: Type.String(), change: Type.String(), detail: Type.String() }),
  ),
});

type SchemaBodyType = {
  schema: string;
  schemaType?: string;
  references?: { name: string; subject: string; version: number }[];
};

export function registerRegistryRoutes(server: HubServer, deps: { registry: SchemaRegistry }) {
  const { registry } = deps;
  server.register(
    async (plugin) => {
      const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
      // Registry clients send their JSON content type on every request, DELETE and GET
      // included, with no body: an empty body is no body here, not a 400.
      const json = scope.getDefaultJsonParser('error', 'error');
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser(
        ['application/json', ...CONFLUENT_CONTENT_TYPES],
        { parseAs: 'string' },
        (request, body, done) => {
          // parseAs 'string': the body is a string (typed as string | Buffer).
          const text = String(body);
          if (text === '') done(null, undefined);
          else json(request, text, done);
        },
      );
      // Rethrown to the hub's handler, which renders problem+json.
      scope.setErrorHandler((error) => {
        const problem = toProblem(error);
        if (problem.status >= 500) throw error;
        throw withConfluentFields(problem);
      });
      const read = { scope: 'events:read' as const };
      const write = { scope: 'schemas:write' as const };
      const tags = ['registry'];

      scope.get(
        '/schemas/types',
        {
          config: read,
          schema: {
            tags,
            summary: 'Schema types held',
            response: { 200: Type.Array(Type.String()) },
          },
        },
        async () => ['JSON'],
      );

      scope.get(
        '/schemas/ids/:id',
        {
          config: read,
          schema: {
            tags,
            summary: 'A schema by its id',
            params: IdParams,
            response: { 200: SchemaView },
          },
        },
        async (request) => registry.schemaById(request.principal.tenant, request.params.id),
      );

      scope.get(
        '/schemas/ids/:id/versions',
        {
          config: read,
          schema: {
            tags,
            summary: 'The subject versions that use a schema id',
            params: IdParams,
            response: {
              200: Type.Array(Type.Object({ subject: Type.String(), version: Type.Integer() })),
            },
          },
        },
        async (request) => registry.schemaUses(request.principal.tenant, request.params.id),
      );

      scope.get(
        '/subjects',
        {
          config: read,
          schema: {
            tags,
            summary: 'Subjects',
            querystring: Deleted,
            response: { 200: Type.Array(Type.String()) },
          },
        },
        async (request) => registry.subjects(request.principal.tenant, request.query.deleted),
      );

      scope.get(
        '/subjects/:subject/versions',
        {
          config: read,
          schema: {
            tags,
            summary: "A subject's version numbers",
            params: SubjectParams,
            querystring: Deleted,
            response: { 200: Type.Array(Type.Integer()) },
          },
        },
        async (request) =>
          registry.versionNumbers(
            request.principal.tenant,
            request.params.subject,
            request.query.deleted,
          ),
      );

      scope.get(
        '/subjects/:subject/versions/:version',
        {
          config: read,
          schema: {
            tags,
            summary: 'One version of a subject (`latest` or a number)',
            params: VersionParams,
            querystring: Deleted,
            response: { 200: VersionView },
          },
        },
        async (request) =>
          registry.version(
            request.principal.tenant,
            request.params.subject,
            parseVersion(request.params.version),
            request.query.deleted,
          ),
      );

      scope.get(
        '/subjects/:subject/versions/:version/schema',
        {
          config: read,
          schema: {
            tags,
            summary: 'The schema document of one version, as JSON',
            params: VersionParams,
          },
        },
        async (request) => {
          const found = await registry.version(
            request.principal.tenant,
            request.params.subject,
            parseVersion(request.params.version),
          );
          return JSON.parse(found.schema) as unknown;
        },
      );

      scope.get(
        '/subjects/:subject/versions/:version/referencedby',
        {
          config: read,
          schema: {
            tags,
            summary: 'Ids of the live schemas that reference this version',
            params: VersionParams,
            response: { 200: Type.Array(Type.Integer()) },
          },
        },
        async (request) =>
          registry.referencedBy(
            request.principal.tenant,
            request.params.subject,
            parseVersion(request.params.version),
          ),
      );

      scope.post(
        '/subjects/:subject/versions',
        {
          config: write,
          schema: {
            tags,
            summary: 'Register a schema under a subject (409 when incompatible)',
            params: SubjectParams,
            body: SchemaBody,
            response: { 200: Type.Object({ id: Type.Integer() }) },
          },
        },
        async (request) => {
          const { id } = await registry.register(
            request.principal.tenant,
            request.params.subject,
            request.body as SchemaBodyType,
          );
          return { id };
        },
      );

      scope.post(
        '/subjects/:subject',
        {
          config: read,
          schema: {
            tags,
            summary: 'Is this schema registered under the subject? (lookup)',
            params: SubjectParams,
            body: SchemaBody,
            response: { 200: VersionView },
          },
        },
        async (request) =>
          registry.lookup(
            request.principal.tenant,
            request.params.subject,
            request.body as SchemaBodyType,
          ),
      );

      scope.delete(
        '/subjects/:subject',
        {
          config: write,
          schema: {
            tags,
            summary: 'Soft delete a subject, or remove it (?permanent=true, after a soft delete)',
            params: SubjectParams,
            querystring: Permanent,
            response: { 200: Type.Array(Type.Integer()) },
          },
        },
        async (request) =>
          registry.deleteSubject(
            request.principal.tenant,
            request.params.subject,
            request.query.permanent,
          ),
      );

      scope.delete(
        '/subjects/:subject/versions/:version',
        {
          config: write,
          schema: {
            tags,
            summary: 'Soft delete a version, or remove it (?permanent=true, after a soft delete)',
            params: VersionParams,
            querystring: Permanent,
            response: { 200: Type.Integer() },
          },
        },
        async (request) =>
          registry.deleteVersion(
            request.principal.tenant,
            request.params.subject,
            parseVersion(request.params.version),
            request.query.permanent,
          ),
      );

      const compatibility = async (
        tenant: string,
        subject: string,
        version: string | undefined,
        body: SchemaBodyType,
      ) => {
        const result = await registry.checkCompatibility(
          tenant,
          subject,
          version === undefined ? 'all' : parseVersion(version),
          body,
        );
        return {
          is_compatible: result.isCompatible,
          messages: result.incompatibilities.map(describeIncompatibility),
          compatibility: result.level,
          incompatibilities: result.incompatibilities,
        };
      };

      scope.post(
        '/compatibility/subjects/:subject/versions/:version',
        {
          config: read,
          schema: {
            tags,
            summary:
              'Would this schema be compatible with a version (`latest`: as registration checks)?',
            params: VersionParams,
            querystring: Type.Object({ verbose: Type.Optional(Type.Boolean()) }),
            body: SchemaBody,
            response: { 200: CompatibilityView },
          },
        },
        async (request) =>
          compatibility(
            request.principal.tenant,
            request.params.subject,
            request.params.version,
            request.body as SchemaBodyType,
          ),
      );

      scope.post(
        '/compatibility/subjects/:subject/versions',
        {
          config: read,
          schema: {
            tags,
            summary: 'Would this schema be compatible with every version its level names?',
            params: SubjectParams,
            querystring: Type.Object({ verbose: Type.Optional(Type.Boolean()) }),
            body: SchemaBody,
            response: { 200: CompatibilityView },
          },
        },
        async (request) =>
          compatibility(
            request.principal.tenant,
            request.params.subject,
            undefined,
            request.body as SchemaBodyType,
          ),
      );

      const putConfig = async (tenant: string, subject: string, body: Record<string, unknown>) => {
        const level = (body['compatibility'] ?? body['compatibilityLevel']) as string | undefined;
        const config = await registry.putConfig(tenant, subject, {
          ...(level !== undefined ? { compatibility: String(level).toUpperCase() } : {}),
          ...(body['validation'] !== undefined ? { validation: String(body['validation']) } : {}),
          ...(body['allowOptionalPropertyInOpenModel'] !== undefined
            ? {
                allowOptionalPropertyInOpenModel: body[
                  'allowOptionalPropertyInOpenModel'
                ] as boolean,
              }
            : {}),
        });
        return { compatibility: config.compatibilityLevel, ...config };
      };
      const configResponse = { 200: ConfigView };
      const putResponse = {
        200: Type.Intersect([Type.Object({ compatibility: Type.String() }), ConfigView]),
      };
      const show = (config: EffectiveConfig) => config;

      scope.get(
        '/config',
        {
          config: read,
          schema: { tags, summary: "The tenant's registry config", response: configResponse },
        },
        async (request) => show(await registry.config(request.principal.tenant, GLOBAL, true)),
      );
      scope.put(
        '/config',
        {
          config: write,
          schema: {
            tags,
            summary: "Set the tenant's registry config",
            body: ConfigBody,
            response: putResponse,
          },
        },
        async (request) => putConfig(request.principal.tenant, GLOBAL, request.body),
      );
      scope.delete(
        '/config',
        {
          config: write,
          schema: {
            tags,
            summary: "Reset the tenant's config to the hub's defaults",
            response: configResponse,
          },
        },
        async (request) => show(await registry.deleteConfig(request.principal.tenant, GLOBAL)),
      );
      scope.get(
        '/config/:subject',
        {
          config: read,
          schema: {
            tags,
            summary: "A subject's own config (404 without one, unless ?defaultToGlobal=true)",
            params: SubjectParams,
            querystring: Type.Object({ defaultToGlobal: Type.Boolean({ default: false }) }),
            response: configResponse,
          },
        },
        async (request) =>
          show(
            await registry.config(
              request.principal.tenant,
              request.params.subject,
              request.query.defaultToGlobal,
            ),
          ),
      );
      scope.put(
        '/config/:subject',
        {
          config: write,
          schema: {
            tags,
            summary: "Set a subject's config",
            params: SubjectParams,
            body: ConfigBody,
            response: putResponse,
          },
        },
        async (request) =>
          putConfig(request.principal.tenant, request.params.subject, request.body),
      );
      scope.delete(
        '/config/:subject',
        {
          config: write,
          schema: {
            tags,
            summary: "Remove a subject's own config (it inherits the tenant's)",
            params: SubjectParams,
            response: configResponse,
          },
        },
        async (request) =>
          show(await registry.deleteConfig(request.principal.tenant, request.params.subject)),
      );
    },
    { prefix: '/v1/registry' },
  );
}
