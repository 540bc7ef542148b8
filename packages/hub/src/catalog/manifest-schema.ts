/**
 * The micro-app manifest, `portico.app.json`: one JSON Schema (TypeBox) that the hub, the
 * CLI and editors share (`portico app schema` prints it). The hub accepts only inline
 * documents; file paths in `apis[].openapi` and `events.*[].schema` are for the file on
 * disk and are replaced by their content by the CLI before publishing.
 */
import { Type, type Static } from '@sinclair/typebox';

export const APP_NAME = '^[a-z][a-z0-9-]{0,62}$';
const API_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const EVENT_TYPE = '^[a-z0-9][a-z0-9_-]*\\.[a-z0-9][a-z0-9_-]*\\.[a-z0-9][a-z0-9_-]*$';
const SEGMENT = '^[a-z0-9][a-z0-9_-]{0,62}$';
/** A registry subject, optionally pinned: `subject` or `subject/versions/<n|latest>`. */
export const SCHEMA_REF = '^[A-Za-z0-9][A-Za-z0-9._-]{0,254}(/versions/([1-9][0-9]{0,9}|latest))?$';

/** `x-…` keys are the manifest's extension point: kept, never interpreted. */
const extensions = { patternProperties: { '^x-': {} }, additionalProperties: false } as const;

const JsonSchemaDoc = Type.Union(
  [Type.Record(Type.String(), Type.Unknown()), Type.Boolean(), Type.String({ minLength: 1 })],
  {
    description:
      'The payload JSON Schema (draft 2020-12 or draft-07) inline, or (in the file only) a path to it relative to the manifest',
  },
);

const EventDeclaration = Type.Object(
  {
    type: Type.String({
      pattern: EVENT_TYPE,
      description: 'The CloudEvents type, domain.entity.action',
    }),
    description: Type.Optional(Type.String({ maxLength: 2048 })),
    schema: Type.Optional(JsonSchemaDoc),
    schemaRef: Type.Optional(
      Type.String({
        pattern: SCHEMA_REF,
        description:
          'A schema registry subject instead of an inline schema: "subject" (latest) or "subject/versions/3"',
      }),
    ),
  },
  extensions,
);

const ApiDeclaration = Type.Object(
  {
    name: Type.String({ pattern: API_NAME, description: 'Unique within the app' }),
    description: Type.Optional(Type.String({ maxLength: 2048 })),
    openapi: Type.Union(
      [Type.Record(Type.String(), Type.Unknown()), Type.String({ minLength: 1 })],
      {
        description:
          'An OpenAPI 3.0/3.1 document inline, or (in the file only) a path to a JSON or YAML file relative to the manifest',
      },
    ),
  },
  extensions,
);

export const ManifestSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.String({
      pattern: APP_NAME,
      description: 'The app name: lowercase letters, digits and "-", unique per tenant',
    }),
    version: Type.Optional(Type.String({ maxLength: 64, description: "The app's own version" })),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    owner: Type.Object(
      {
        team: Type.String({ minLength: 1, maxLength: 128, description: 'The owning team' }),
        contact: Type.Optional(
          Type.String({ maxLength: 256, description: 'E-mail, chat channel or URL' }),
        ),
      },
      extensions,
    ),
    domain: Type.String({
      pattern: SEGMENT,
      description: 'The business domain (the first segment of the event types it owns)',
    }),
    ui: Type.Optional(
      Type.Object(
        {
          entry: Type.String({
            pattern: '^(https?://|/)',
            maxLength: 2048,
            description:
              'The URL of the UI entry module (absolute http(s) or a path on the portal)',
          }),
          route: Type.Optional(Type.String({ pattern: '^/', maxLength: 256 })),
        },
        extensions,
      ),
    ),
    apis: Type.Optional(Type.Array(ApiDeclaration, { maxItems: 32 })),
    events: Type.Optional(
      Type.Object(
        {
          publishes: Type.Optional(Type.Array(EventDeclaration, { maxItems: 512 })),
          consumes: Type.Optional(Type.Array(EventDeclaration, { maxItems: 512 })),
        },
        extensions,
      ),
    ),
    scopes: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$' }), {
        uniqueItems: true,
        maxItems: 128,
        description: 'The scopes the app needs (Portico scopes and its own API scopes)',
      }),
    ),
    slas: Type.Optional(
      Type.Object(
        {
          availabilityPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
          latencyP99Ms: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          maxEventLagSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          supportHours: Type.Optional(Type.String({ maxLength: 256 })),
        },
        extensions,
      ),
    ),
  },
  { ...extensions, $id: 'https://portico.dev/schemas/portico.app.json' },
);

export type EventDeclaration = {
  type: string;
  description?: string;
  /** Inline in the hub; a file path only in a manifest on disk. */
  schema?: Record<string, unknown> | boolean | string;
  schemaRef?: string;
  [extension: `x-${string}`]: unknown;
};

export type ApiDeclaration = {
  name: string;
  description?: string;
  openapi: Record<string, unknown> | string;
  [extension: `x-${string}`]: unknown;
};

export type AppManifest = Omit<Static<typeof ManifestSchema>, 'apis' | 'events'> & {
  apis?: ApiDeclaration[];
  events?: { publishes?: EventDeclaration[]; consumes?: EventDeclaration[] };
};

/** The manifest's JSON Schema as `portico app schema` prints it. */
export function manifestJsonSchema(): Record<string, unknown> {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...ManifestSchema };
}
