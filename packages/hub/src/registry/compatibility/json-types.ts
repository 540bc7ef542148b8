/** JSON value types as JSON Schema names them; "integer" is a subset of "number". */

import { arrayAt, enumValues, type SchemaObject } from './keywords.ts';

export type JsonType = 'null' | 'boolean' | 'object' | 'array' | 'string' | 'number' | 'integer';

const NAMES: ReadonlySet<string> = new Set([
  'null', 'boolean', 'object', 'array', 'string', 'number', 'integer',
]); // prettier-ignore

/** What a schema without a usable `type` lets through. */
export const ALL_TYPES: ReadonlySet<JsonType> = new Set([
  'null', 'boolean', 'object', 'array', 'string', 'number',
]); // prettier-ignore

export function typeOfValue(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

/** The `type` keyword as a set, or undefined when absent or unusable. */
export function declaredTypes(schema: SchemaObject): Set<JsonType> | undefined {
  const raw = schema['type'];
  const list = typeof raw === 'string' ? [raw] : (arrayAt(schema, 'type') ?? []);
  const types = list.filter((t): t is JsonType => typeof t === 'string' && NAMES.has(t));
  return types.length > 0 ? new Set(types) : undefined;
}

/** Types in both sets, where "number" ∩ "integer" is "integer". */
export function intersectTypes(a: ReadonlySet<JsonType>, b: ReadonlySet<JsonType>): Set<JsonType> {
  const out = new Set<JsonType>();
  for (const t of a) {
    if (b.has(t)) out.add(t);
    else if (t === 'number' && b.has('integer')) out.add('integer');
    else if (t === 'integer' && b.has('number')) out.add('integer');
  }
  return out;
}

export function typeAccepted(accepted: ReadonlySet<JsonType>, t: JsonType): boolean {
  return accepted.has(t) || (t === 'integer' && accepted.has('number'));
}

/** Whether values of `family` can occur among `types` ("number" covers integers). */
export function mayBe(types: ReadonlySet<JsonType>, family: JsonType): boolean {
  return family === 'number' ? types.has('number') || types.has('integer') : types.has(family);
}

/**
 * The types a conjunction of schemas can produce: the intersection of their `type`s; with
 * no `type` anywhere, the types of the first `enum`/`const`; otherwise every type.
 */
export function typesOfConjunction(parts: readonly SchemaObject[]): Set<JsonType> {
  let types: Set<JsonType> | undefined;
  for (const part of parts) {
    const declared = declaredTypes(part);
    if (declared) types = types ? intersectTypes(types, declared) : declared;
  }
  if (types) return types;
  for (const part of parts) {
    const values = enumValues(part);
    if (values) return new Set(values.map(typeOfValue));
  }
  return new Set(ALL_TYPES);
}
