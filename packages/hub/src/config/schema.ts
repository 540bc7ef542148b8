import { Type, type Static } from '@sinclair/typebox';
import { DictionaryConfigSchema } from '../dictionary/config-schema.ts';
import { GatewayConfigSchema } from '../gateway/config-schema.ts';
import { HttpConfigSchema } from '../http/config-schema.ts';
import { RoutingConfigSchema } from '../routing/config-schema.ts';
import { WebhooksConfigSchema } from '../webhooks/config-schema.ts';

/**
 * The one configuration schema. Defaults live here; `portico config schema` prints it as
 * JSON Schema for editors (`"$schema": "./portico.config.schema.json"` in the file).
 */
const Auth = Type.Object(
  {
    mode: Type.Union([Type.Literal('dev'), Type.Literal('oidc')], {
      default: 'dev',
      description:
        "'dev': the hub signs its own tokens (`portico token`). 'oidc': trust an OIDC issuer.",
    }),
    issuer: Type.Optional(
      Type.String({ format: 'uri', description: 'OIDC issuer URL (required when mode is oidc).' }),
    ),
    audience: Type.String({
      default: 'urn:portico',
      minLength: 1,
      description: "Portico's resource URI: tokens must carry it in `aud`.",
    }),
    algorithms: Type.Array(Type.String({ pattern: '^(RS|PS|ES)(256|384|512)$|^EdDSA$' }), {
      default: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      minItems: 1,
      description: 'Accepted JWS algorithms (asymmetric only; never none or HS*).',
    }),
    tenantClaim: Type.String({ default: 'tenant', minLength: 1 }),
    scopeClaim: Type.String({ default: 'scope', minLength: 1 }),
    requireAccessTokenType: Type.Boolean({
      default: false,
      description: 'Require the JWT header typ to be at+jwt (RFC 9068).',
    }),
    clockToleranceSeconds: Type.Integer({ default: 30, minimum: 0, maximum: 300 }),
  },
  { additionalProperties: false, default: {} },
);

const Events = Type.Object(
  {
    maxEventBytes: Type.Integer({
      default: 256 * 1024,
      minimum: 1024,
      description:
        "Largest single event (serialized), bytes; queue and push copies included. On NATS it must fit in the server's max_payload less 256 bytes, or the hub does not start.",
    }),
    maxRequestBytes: Type.Integer({
      default: 5 * 1024 * 1024,
      minimum: 1024,
      description: 'Largest request body, bytes.',
    }),
    maxBatchSize: Type.Integer({ default: 1000, minimum: 1, maximum: 10000 }),
    dedupeWindowSeconds: Type.Integer({
      default: 24 * 3600,
      minimum: 0,
      description: 'Same source+id inside this window is a duplicate.',
    }),
    partitions: Type.Integer({ default: 16, minimum: 1, maximum: 1024 }),
    retention: Type.Object(
      {
        maxAgeSeconds: Type.Integer({ default: 7 * 24 * 3600, minimum: 60 }),
        maxBytes: Type.Optional(Type.Integer({ minimum: 1024 * 1024 })),
        checkIntervalSeconds: Type.Integer({ default: 300, minimum: 1 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

const Backbone = Type.Union(
  [
    Type.Object({ kind: Type.Literal('sqlite') }, { additionalProperties: false }),
    Type.Object(
      {
        kind: Type.Literal('nats'),
        url: Type.String({ minLength: 1, description: 'NATS servers, e.g. nats://127.0.0.1:4222' }),
        stream: Type.String({ default: 'PORTICO_EVENTS', pattern: '^[A-Za-z0-9_-]+$' }),
        subjectPrefix: Type.String({
          default: 'portico',
          pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$',
          description:
            'First subject token(s); the stream holds <prefix>.>. Two streams on one NATS need different prefixes.',
        }),
      },
      { additionalProperties: false },
    ),
  ],
  { default: { kind: 'sqlite' } },
);

const Store = Type.Union(
  [
    Type.Object({ kind: Type.Literal('sqlite') }, { additionalProperties: false }),
    Type.Object(
      {
        kind: Type.Literal('postgres'),
        url: Type.String({ minLength: 1, description: 'postgres://user@host:5432/db' }),
        poolSize: Type.Integer({ default: 10, minimum: 1, maximum: 200 }),
      },
      { additionalProperties: false },
    ),
  ],
  { default: { kind: 'sqlite' } },
);

const Push = Type.Object(
  {
    heartbeatSeconds: Type.Integer({
      default: 15,
      minimum: 1,
      maximum: 300,
      description:
        'Keep-alive interval: SSE comment lines, WebSocket pings (a peer missing one is dropped).',
    }),
    retryMs: Type.Integer({
      default: 2000,
      minimum: 0,
      maximum: 600_000,
      description: 'SSE `retry:` hint: how long EventSource waits before reconnecting.',
    }),
    maxQueueBytes: Type.Integer({
      default: 1024 * 1024,
      minimum: 4096,
      description:
        'Send queue limit per connection, bytes; a reader that falls further behind is disconnected.',
    }),
    maxConnectionsPerTenant: Type.Integer({ default: 10_000, minimum: 1 }),
    maxSubscriptionsPerTenant: Type.Integer({ default: 100_000, minimum: 1 }),
    maxSubscriptionsPerConnection: Type.Integer({ default: 256, minimum: 1 }),
    ticketTtlSeconds: Type.Integer({
      default: 30,
      minimum: 1,
      maximum: 300,
      description: 'Lifetime of a single-use stream ticket (POST /v1/stream/tickets).',
    }),
  },
  { additionalProperties: false, default: {} },
);

const DomainPolicy = Type.Object(
  {
    // Optional rather than defaulted: defaults are not applied inside a Record's values.
    forbidPii: Type.Optional(
      Type.Boolean({
        description:
          'Refuse events whose data holds a value under a schema field marked `x-pii: true` (422). Default false.',
      }),
    ),
    requireSchema: Type.Optional(
      Type.Boolean({
        description:
          'Refuse events of this domain whose type has no registered schema (their fields cannot be checked). Default false.',
      }),
    ),
    maxRetentionSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Longest an event of this domain may ask to be kept: a later `expirytime` is refused (422); an event without one gets `expirytime` = recorded time + this.',
      }),
    ),
  },
  { additionalProperties: false },
);

const SchemaRegistryConfig = Type.Object(
  {
    compatibility: Type.Union(
      [
        'BACKWARD',
        'BACKWARD_TRANSITIVE',
        'FORWARD',
        'FORWARD_TRANSITIVE',
        'FULL',
        'FULL_TRANSITIVE',
        'NONE',
      ].map((l) => Type.Literal(l)),
      {
        default: 'BACKWARD',
        description: 'Compatibility level of a subject when neither it nor its tenant sets one.',
      },
    ),
    validation: Type.Union([Type.Literal('reject'), Type.Literal('warn')], {
      default: 'reject',
      description:
        "At publish, an event failing its type's schema is refused (422) or accepted and flagged (`validationwarnings`); per subject via PUT /v1/registry/config.",
    }),
    allowOptionalPropertyInOpenModel: Type.Boolean({
      default: true,
      description:
        'A new optional property in an open content model is compatible (false: Confluent/Apicurio behaviour). See registry/compatibility/DECISIONS.md.',
    }),
    cacheRefreshMs: Type.Integer({
      default: 1000,
      minimum: 10,
      maximum: 60_000,
      description: "How stale another hub node's registry writes may be seen at publish.",
    }),
    domains: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$' }), DomainPolicy, {
      // A key that is not a domain name is a typo, not a policy to ignore.
      additionalProperties: false,
      default: {},
      description:
        'Publish-time policy per event domain (the first segment of the type), e.g. { "hr": { "forbidPii": true, "maxRetentionSeconds": 2592000 } }.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    host: Type.String({ default: '0.0.0.0', minLength: 1 }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
    publicUrl: Type.Optional(
      Type.String({
        format: 'uri',
        description: 'URL clients use to reach the hub (printed at start-up).',
      }),
    ),
    dataDir: Type.String({
      default: './.portico',
      minLength: 1,
      description: 'Embedded store and dev signing key.',
    }),
    env: Type.String({
      default: 'dev',
      pattern: '^[a-z0-9][a-z0-9_-]*$',
      description: 'The environment segment of topics: domain.<env>.entity.action',
    }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    shutdownTimeoutSeconds: Type.Integer({ default: 10, minimum: 1, maximum: 300 }),
    http: HttpConfigSchema,
    auth: Auth,
    events: Events,
    backbone: Backbone,
    store: Store,
    push: Push,
    registry: SchemaRegistryConfig,
    dictionary: DictionaryConfigSchema,
    gateway: GatewayConfigSchema,
    webhooks: WebhooksConfigSchema,
    routing: RoutingConfigSchema,
  },
  {
    additionalProperties: false,
    $id: 'https://portico.dev/schemas/portico.config.json',
    title: 'Portico configuration',
  },
);

export type PorticoConfig = Static<typeof ConfigSchema>;
