/**
 * A registered schema's text: parsing, the dialect it declares, and the fingerprint that
 * decides "same schema, same id".
 */
import { createHash } from 'node:crypto';

export type Dialect = '2020-12' | 'draft-07';

/** A reference to another registered subject, as in Confluent's API. */
export type SchemaReference = { name: string; subject: string; version: number };

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const DRAFT_2020 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;

/**
 * The dialect of a schema from its `$schema`. No `$schema` means 2020-12 (Portico's
 * default, as in the compatibility checker); any other declared draft is refused, since
 * validation and compatibility would silently apply the wrong rules.
 */
export function dialectOf(schema: unknown): Dialect | { problem: string } {
  if (typeof schema === 'boolean') return '2020-12';
  const declared = (schema as { $schema?: unknown }).$schema;
  if (declared === undefined) return '2020-12';
  if (typeof declared !== 'string') return { problem: '$schema must be a string' };
  if (DRAFT_2020.test(declared)) return '2020-12';
  if (DRAFT_07.test(declared)) return 'draft-07';
  return {
    problem: `unsupported $schema "${declared}": use https://json-schema.org/draft/2020-12/schema or http://json-schema.org/draft-07/schema#`,
  };
}

/** Parses the `schema` string of a request; the problem says why it is not a JSON Schema document. */
export function parseSchemaText(text: string): { schema: unknown } | { problem: string } {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    return { problem: `the schema is not valid JSON: ${(error as Error).message}` };
  }
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object'))
    return { problem: 'a JSON Schema is an object or a boolean' };
  if (Array.isArray(schema))
    return { problem: 'a JSON Schema is an object or a boolean, not an array' };
  if (nestingDepth(schema, MAX_DEPTH) > MAX_DEPTH)
    return { problem: `the schema is nested more than ${MAX_DEPTH} levels deep` };
  return { schema };
}

/**
 * Deeper documents are refused: ajv, the compatibility checker and canonicalJson all
 * recurse over the document, and a pathological nesting would exhaust the stack (a 500)
 * instead of getting a 422. Real schemas stay far below this.
 */
export const MAX_DEPTH = 128;

/** Nesting depth of a JSON value, walked iteratively; stops counting past `limit`. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** JSON with object keys sorted: two texts that differ only in layout or key order compare equal. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * The identity of a schema within a tenant: its canonical JSON plus its references (the
 * same text resolving `$ref`s to other versions is a different schema).
 */
export function fingerprint(schema: unknown, references: readonly SchemaReference[]): string {
  const refs = references.map((r) => [r.name, r.subject, r.version]);
  return createHash('sha256')
    .update(canonicalJson(schema))
    .update('\u0000')
    .update(JSON.stringify(refs))
    .digest('hex');
}
