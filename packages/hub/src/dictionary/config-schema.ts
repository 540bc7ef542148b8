/** The `dictionary` section of the hub's configuration (included by config/schema.ts). */
import { Type } from '@sinclair/typebox';

export const DictionaryConfigSchema = Type.Object(
  {
    maxAgeSeconds: Type.Integer({
      default: 30,
      minimum: 0,
      maximum: 86_400,
      description:
        '`Cache-Control: private, max-age` of GET /v1/dictionary (ETag revalidation after).',
    }),
    overrideMaxTtlSeconds: Type.Integer({
      default: 7 * 86_400,
      minimum: 60,
      // Unbounded, a long enough lifetime ended past the last instant a Date holds: the set
      // was stored, then every listing of the tenant's sets and every read presenting it
      // failed (a 500). Override sets are for tests, so a year is plenty.
      maximum: 366 * 86_400,
      description: 'Longest lifetime of an override set (at most 366 days).',
    }),
    maxOverridesPerTenant: Type.Integer({ default: 100, minimum: 1, maximum: 10_000 }),
    maxApisPerTenant: Type.Integer({ default: 1000, minimum: 1, maximum: 100_000 }),
  },
  { additionalProperties: false, default: {} },
);
