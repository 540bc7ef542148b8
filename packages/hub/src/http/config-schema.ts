/** The `http` section of the hub's configuration (included by config/schema.ts). */
import { Type } from '@sinclair/typebox';

export const HttpConfigSchema = Type.Object(
  {
    cors: Type.Object(
      {
        origins: Type.Array(
          // Exact origins only: a browser sends scheme://host[:port], never a path or a slash.
          Type.String({ pattern: '^https?://[^/?#*\\s]+$' }),
          {
            default: [],
            uniqueItems: true,
            description:
              'Origins whose pages may call the hub\'s own API (/v1/…, /healthz, /readyz, /openapi.json) cross-origin, e.g. "https://portal.example.com"; [] sends no CORS headers. The gateway\'s routes have their own (gateway.cors).',
          },
        ),
        credentials: Type.Boolean({
          default: false,
          description:
            'Allow credentialed requests (cookies); the shell sends bearer tokens and does not need it.',
        }),
        maxAgeSeconds: Type.Integer({
          default: 600,
          minimum: 0,
          maximum: 86_400,
          description: 'How long a browser may cache a preflight answer.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    metricsToken: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 512,
        // A bearer token (RFC 6750 token68), as Authorization carries it.
        pattern: '^[A-Za-z0-9._~+/-]+=*$',
        description:
          'When set, GET /metrics answers only requests with "Authorization: Bearer <this token>" (Prometheus: authorization.credentials); its labels name tenants, groups and endpoints. Unset: public.',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);
