/** The `webhooks` section of portico.config.json. */
import { Type, type Static } from '@sinclair/typebox';

export const WebhooksConfigSchema = Type.Object(
  {
    allowHttp: Type.Boolean({
      default: false,
      description: 'Allow plain http:// endpoint URLs (default: https only).',
    }),
    allowCidrs: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Operator allow-list: CIDRs endpoints may reach although the SSRF policy blocks them (private targets; 127.0.0.0/8 for tests).',
    }),
    requestTimeoutSeconds: Type.Number({
      default: 15,
      minimum: 0.1,
      maximum: 300,
      description: 'One request (connect, send, status and the first KiB of the answer).',
    }),
    retryScheduleSeconds: Type.Array(Type.Number({ minimum: 0, maximum: 7 * 86_400 }), {
      default: [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400],
      minItems: 0,
      maxItems: 50,
      description:
        'Delays before the 2nd, 3rd, … attempt (the first is immediate). Default: the Standard Webhooks schedule 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h; then the DLQ.',
    }),
    jitter: Type.Union([Type.Literal('full'), Type.Literal('none')], {
      default: 'full',
      description: "'full': each delay is uniform in [0, delay]; 'none': exact.",
    }),
    secretRotationGraceSeconds: Type.Integer({
      default: 86_400,
      minimum: 0,
      maximum: 30 * 86_400,
      description:
        'After a rotation the old secret keeps signing (both signatures are sent) this long.',
    }),
    disableAfterFailingSeconds: Type.Number({
      default: 5 * 86_400,
      minimum: 0.1,
      description:
        'An endpoint whose attempts have all failed for this long is disabled (and portico.webhook.endpoint-disabled is emitted).',
    }),
    maxConcurrencyPerEndpoint: Type.Integer({
      default: 16,
      minimum: 1,
      maximum: 256,
      description: "Upper bound of an endpoint's `concurrency` (requests in flight per hub node).",
    }),
    maxEndpointsPerTenant: Type.Integer({ default: 100, minimum: 1, maximum: 10_000 }),
  },
  { additionalProperties: false, default: {} },
);

export type WebhooksConfig = Static<typeof WebhooksConfigSchema>;
