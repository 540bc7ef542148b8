/** The `routing` section of the hub's configuration (included by config/schema.ts). */
import { Type, type Static } from '@sinclair/typebox';

const WEEK_SECONDS = 7 * 86_400;

const RetrySettings = Type.Object(
  {
    maxAttempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'Attempts in all, the first included.',
      }),
    ),
    delaysSeconds: Type.Optional(
      Type.Array(Type.Number({ minimum: 0, maximum: WEEK_SECONDS }), {
        minItems: 1,
        maxItems: 50,
        description:
          'A fixed schedule: the delays before the 2nd, 3rd, … attempt (sets maxAttempts to its length + 1 unless given). Not with baseDelaySeconds/maxDelaySeconds.',
      }),
    ),
    baseDelaySeconds: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: WEEK_SECONDS,
        description: 'Exponential backoff: the first delay, doubled on every attempt…',
      }),
    ),
    maxDelaySeconds: Type.Optional(
      Type.Number({ minimum: 0, maximum: WEEK_SECONDS, description: '…up to this delay.' }),
    ),
    maxAgeSeconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 4 * WEEK_SECONDS,
        description:
          'No attempt is scheduled later than this after the delivery was routed (or replayed): it goes to the DLQ instead.',
      }),
    ),
    jitter: Type.Optional(
      Type.Union([Type.Literal('full'), Type.Literal('none')], {
        description: "'full': each delay is drawn uniformly in [0, delay] (default).",
      }),
    ),
  },
  { additionalProperties: false },
);

const KindSettingsSchema = Type.Object(
  {
    retry: Type.Optional(RetrySettings),
    timeoutSeconds: Type.Optional(
      Type.Number({
        minimum: 0.1,
        maximum: 3600,
        description: 'One attempt is abandoned (and retried) after this long.',
      }),
    ),
    concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description:
          'Attempts in flight at once per destination (queue, channel, endpoint) per hub node.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const RoutingConfigSchema = Type.Object(
  {
    targets: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }), KindSettingsSchema, {
      default: {},
      additionalProperties: false,
      description:
        "Per target kind (queue, push, webhook, …): the retry schedule, maximum age, attempt timeout and concurrency. Wins over the kind's built-in defaults; a rule target's own `retry` wins over this.",
    }),
    maxRulesPerOwner: Type.Integer({
      default: 1000,
      minimum: 1,
      maximum: 100_000,
      description: 'Rules one tenant (or the platform) may own.',
    }),
    maxTargetsPerRule: Type.Integer({ default: 10, minimum: 1, maximum: 100 }),
    maxPatternBytes: Type.Integer({
      default: 16 * 1024,
      minimum: 256,
      maximum: 1024 * 1024,
      description: "A rule's pattern as compact JSON, bytes.",
    }),
    keepDeliveredSeconds: Type.Integer({
      default: 86_400,
      minimum: 60,
      description:
        'Delivered rows (and their attempt log) are kept this long; routing stays idempotent for as long.',
    }),
    keepDeadSeconds: Type.Integer({
      default: 14 * 86_400,
      minimum: 60,
      description:
        'DLQ entries never replayed (and their attempt log) are deleted after this long.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type RoutingConfig = Static<typeof RoutingConfigSchema>;
