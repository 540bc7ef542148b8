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
      description: 'Longest lifetime of an override set.',
    }),
    maxOverridesPerTenant: Type.Integer({ default: 100, minimum: 1, maximum: 10_000 }),
    maxApisPerTenant: Type.Integer({ default: 1000, minimum: 1, maximum: 100_000 }),
  },
  { additionalProperties: false, default: {} },
);
