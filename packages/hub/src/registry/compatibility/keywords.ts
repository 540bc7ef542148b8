/**
 * Typed, forgiving reads of JSON Schema keywords. A registry validates schemas before
 * checking them, but the checker must never crash on a malformed keyword: anything of
 * the wrong shape reads as absent.
 */

export type SchemaObject = Record<string, unknown>;

export function asObject(schema: unknown): SchemaObject | undefined {
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema)
    ? (schema as SchemaObject)
    : undefined;
}

export function numberAt(schema: SchemaObject, keyword: string): number | undefined {
  const value = schema[keyword];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function stringAt(schema: SchemaObject, keyword: string): string | undefined {
  const value = schema[keyword];
  return typeof value === 'string' ? value : undefined;
}

export function arrayAt(schema: SchemaObject, keyword: string): readonly unknown[] | undefined {
  const value = schema[keyword];
  return Array.isArray(value) ? value : undefined;
}

export function objectAt(schema: SchemaObject, keyword: string): SchemaObject | undefined {
  return asObject(schema[keyword]);
}

export function stringsAt(schema: SchemaObject, keyword: string): string[] {
  return (arrayAt(schema, keyword) ?? []).filter((v): v is string => typeof v === 'string');
}

/** The reference a schema delegates to: `$ref`, or the 2019/2020 dynamic forms. */
export function refOf(schema: SchemaObject): string | undefined {
  return (
    stringAt(schema, '$ref') ?? stringAt(schema, '$recursiveRef') ?? stringAt(schema, '$dynamicRef')
  );
}

/** Keywords that restrict the valid documents; every other keyword is an annotation. */
const ASSERTIONS = new Set([
  'type', 'enum', 'const',
  'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'format', 'contentEncoding', 'contentMediaType',
  'items', 'prefixItems', 'additionalItems', 'unevaluatedItems', 'contains',
  'maxItems', 'minItems', 'uniqueItems', 'maxContains', 'minContains',
  'properties', 'patternProperties', 'additionalProperties', 'unevaluatedProperties',
  'required', 'maxProperties', 'minProperties', 'propertyNames',
  'dependencies', 'dependentRequired', 'dependentSchemas',
  'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else',
  '$ref', '$recursiveRef', '$dynamicRef',
]); // prettier-ignore

/** True when the schema accepts every value (`true`, `{}`, or annotations only). */
export function acceptsEverything(schema: unknown): boolean {
  if (schema === true) return true;
  const object = asObject(schema);
  return object !== undefined && !Object.keys(object).some((key) => ASSERTIONS.has(key));
}

/** True when the schema has assertions besides the ones the walker expands itself. */
export function hasOwnAssertions(schema: SchemaObject, applied: readonly string[] = []): boolean {
  return Object.keys(schema).some(
    (key) => ASSERTIONS.has(key) && !EXPANDED.has(key) && !applied.includes(key),
  );
}

const EXPANDED = new Set(['allOf', '$ref', '$recursiveRef', '$dynamicRef']);

/** `const` reads as a one-value `enum`. */
export function enumValues(schema: SchemaObject): readonly unknown[] | undefined {
  if (Object.hasOwn(schema, 'const')) return [schema['const']];
  return arrayAt(schema, 'enum');
}

/** Keywords whose values are schemas, so that a document scan finds every `$id`. */
export const SUBSCHEMA_KEYWORDS = {
  single: [
    'additionalItems', 'items', 'additionalProperties', 'not', 'if', 'then', 'else',
    'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema',
  ],
  list: ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'],
  map: ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies'],
} as const; // prettier-ignore
