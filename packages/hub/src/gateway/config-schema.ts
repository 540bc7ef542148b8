/** The `gateway` section of the hub's configuration (included by config/schema.ts). */
import { Type } from '@sinclair/typebox';
import { PolicySchema } from '../dictionary/model.ts';

export const GatewayConfigSchema = Type.Object(
  {
    maxRequestBytes: Type.Integer({
      default: 1024 * 1024,
      minimum: 0,
      description: 'Largest request body the gateway buffers (413 above); a policy may lower it.',
    }),
    upstreams: Type.Object(
      {
        allowHttp: Type.Boolean({
          default: true,
          description: 'Allow plain http: upstreams (internal services often are).',
        }),
        allowCidrs: Type.Array(Type.String(), {
          default: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
          description:
            'Non-public networks upstreams may be in; loopback, link-local and metadata addresses stay blocked unless listed.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    defaults: Type.Composite([PolicySchema], {
      default: { timeoutMs: 10_000, retries: 1, circuitBreaker: { failures: 5, openSeconds: 10 } },
      description:
        "Policy of every API version; a version's own policy overrides it field by field.",
    }),
    cache: Type.Object(
      {
        maxBytes: Type.Integer({ default: 32 * 1024 * 1024, minimum: 0 }),
        maxEntryBytes: Type.Integer({ default: 1024 * 1024, minimum: 0 }),
      },
      { additionalProperties: false, default: {} },
    ),
    cors: Type.Object(
      {
        origins: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Allowed origins (exact, e.g. https://portal.example.com), or "*"',
        }),
        credentials: Type.Boolean({ default: false }),
        maxAgeSeconds: Type.Integer({ default: 600, minimum: 0, maximum: 86_400 }),
        allowHeaders: Type.Array(Type.String(), {
          default: [
            'authorization',
            'content-type',
            'x-portico-app',
            'x-request-id',
            'traceparent',
          ],
        }),
        exposeHeaders: Type.Array(Type.String(), {
          default: [
            'x-request-id',
            'ratelimit',
            'ratelimit-policy',
            'retry-after',
            'deprecation',
            'sunset',
          ],
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    graphql: Type.Object(
      {
        subgraphs: Type.Array(
          Type.Object(
            {
              name: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }),
              url: Type.String({ format: 'uri', description: "The subgraph's GraphQL endpoint" }),
            },
            { additionalProperties: false },
          ),
          {
            default: [],
            description:
              'Federation subgraphs composed into the supergraph served at /graphql (none: no /graphql).',
          },
        ),
        scopes: Type.Array(Type.String(), {
          default: [],
          description: 'Scopes a caller needs for /graphql (subgraphs may check more).',
        }),
        pollSeconds: Type.Integer({ default: 60, minimum: 1, description: 'Recompose every' }),
        timeoutMs: Type.Integer({ default: 10_000, minimum: 1 }),
        forwardAuthorization: Type.Boolean({
          default: false,
          description: "Pass the caller's Authorization header to subgraphs.",
        }),
        maxSubscriptionsPerTenant: Type.Integer({
          default: 1000,
          minimum: 1,
          maximum: 1_000_000,
          description:
            'Open subscription streams per tenant on each node (429 beyond): each holds a connection from the caller and one to a subgraph.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    rateLimitStore: Type.Union(
      [
        Type.Object({ kind: Type.Literal('memory') }, { additionalProperties: false }),
        Type.Object(
          {
            kind: Type.Literal('redis'),
            url: Type.String({ minLength: 1, description: 'redis://host:6379/0' }),
            prefix: Type.String({ default: 'portico:rl:', description: 'Key prefix' }),
          },
          { additionalProperties: false },
        ),
      ],
      {
        default: { kind: 'memory' },
        description:
          "Where token buckets live: this node's memory, or Redis shared by every node (falls back to memory while Redis is unreachable).",
      },
    ),
    tokenExchange: Type.Optional(
      Type.Object(
        {
          tokenEndpoint: Type.String({
            format: 'uri',
            description: "The identity provider's token endpoint (RFC 8693 token exchange)",
          }),
          clientId: Type.String({ minLength: 1, description: "The gateway's client id there" }),
          clientSecret: Type.String({
            minLength: 1,
            description:
              'Its secret (client_secret_basic); better set with PORTICO_GATEWAY_TOKEN_EXCHANGE_SECRET than in a file',
          }),
          timeoutMs: Type.Integer({ default: 5000, minimum: 1, maximum: 60_000 }),
          refreshBeforeSeconds: Type.Integer({
            default: 30,
            minimum: 0,
            description: 'An exchanged token is used until this long before its expiry',
          }),
          maxEntries: Type.Integer({ default: 10_000, minimum: 1 }),
        },
        {
          additionalProperties: false,
          description:
            'Where versions whose policy has `tokenExchange` get their upstream-audience tokens.',
        },
      ),
    ),
    entryPoints: Type.Array(
      Type.Object(
        {
          host: Type.String({
            pattern: '^[A-Za-z0-9.-]{1,253}$',
            description: 'A Host name (no port), e.g. incidents.example.com',
          }),
          domains: Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            description: 'The dictionary domains whose APIs this host routes',
          }),
        },
        { additionalProperties: false },
      ),
      {
        default: [],
        description:
          'Per-domain entry points: a request whose Host is one of these reaches only the APIs of its domains (404 for others); other hosts reach every API.',
      },
    ),
    maxRateLimitKeys: Type.Integer({
      default: 100_000,
      minimum: 100,
      description: 'Token buckets kept in memory; the least recently used are dropped beyond.',
    }),
  },
  { additionalProperties: false, default: {} },
);
