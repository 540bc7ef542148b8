/**
 * A BFF composition: named parts, each a GET on a dictionary API through the gateway, with
 * values from the request substituted into its path; then one JSONata expression shapes
 * the parts into the view's response. JSONata (jsonata.org) is a well-kept query and
 * transformation language for JSON: select, rename, nest, without inventing our own.
 */
import { Type, type Static } from '@sinclair/typebox';
import jsonata from 'jsonata';
import type { FieldError } from '../../http/problem.ts';

const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const PART_NAME = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';

export const PartSchema = Type.Object(
  {
    api: Type.String({ pattern: NAME }),
    version: Type.String({ pattern: NAME }),
    path: Type.String({
      pattern: '^/',
      maxLength: 2048,
      description:
        'Path and query on the API, with placeholders {query.<name>}, {subject} and {tenant} (URL-encoded when substituted)',
    }),
    required: Type.Optional(
      Type.Boolean({ description: 'A required part failing fails the whole (default true)' }),
    ),
  },
  { additionalProperties: false },
);

export const CompositionSchema = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    parts: Type.Record(Type.String({ pattern: PART_NAME }), PartSchema, {
      minProperties: 1,
      maxProperties: 16,
    }),
    shape: Type.Optional(
      Type.String({
        maxLength: 16_384,
        description:
          'JSONata over {<part>: body or null, query, subject, tenant}; default: the parts as they are',
      }),
    ),
    cacheSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 86_400,
        description: 'Cache-Control: private, max-age of the response (with an ETag)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Composition = Static<typeof CompositionSchema>;
export type Part = Static<typeof PartSchema>;

const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN = /^(query\.[A-Za-z0-9_.-]{1,64}|subject|tenant)$/;

/** Names the shape's input already has: a part named so would replace the request's value. */
const RESERVED_PART_NAMES = new Set(['query', 'subject', 'tenant']);

/** Syntax errors of the shape, unknown placeholders and reserved part names, as field errors. */
export function compositionErrors(c: Composition): FieldError[] {
  const errors: FieldError[] = [];
  for (const name of Object.keys(c.parts))
    if (RESERVED_PART_NAMES.has(name))
      errors.push({
        pointer: `/parts/${name}`,
        detail: `is a reserved name: the shape's input has "${name}" from the request`,
      });
  for (const [name, part] of Object.entries(c.parts))
    for (const [, inner] of part.path.matchAll(PLACEHOLDER))
      if (!KNOWN.test(inner!))
        errors.push({
          pointer: `/parts/${name}/path`,
          detail: `unknown placeholder {${inner}}: use {query.<name>}, {subject} or {tenant}`,
        });
  if (c.shape !== undefined) {
    try {
      jsonata(c.shape);
    } catch (error) {
      const e = error as { message: string; position?: number };
      errors.push({
        pointer: '/shape',
        detail: `is not valid JSONata: ${e.message}${e.position !== undefined ? ` (at ${e.position})` : ''}`,
      });
    }
  }
  return errors;
}

/** A whole path segment that URL resolution would remove or climb up by. */
const DOT_SEGMENT = /^\.{1,2}$/;

/**
 * The part's path with the request's values in; otherwise the placeholder whose value is
 * missing, or unusable: `.` and `..` pass encodeURIComponent as they are (so do `%2E`
 * spellings, decoded first by URL resolution) and in the path would move the call to another
 * resource of the API (`/users/{query.id}/public` with `id=..` is `/public`).
 */
export function fillPath(
  path: string,
  values: { query: Record<string, unknown>; subject: string; tenant: string },
): { path: string } | { missing: string } | { invalid: string } {
  let missing: string | undefined;
  let invalid: string | undefined;
  const queryStart = path.indexOf('?');
  const filled = path.replace(PLACEHOLDER, (_all, inner: string, offset: number) => {
    const value = valueOf(inner, values);
    if (value === undefined) missing ??= inner;
    else if ((queryStart === -1 || offset < queryStart) && DOT_SEGMENT.test(value))
      invalid ??= inner;
    return encodeURIComponent(value ?? '');
  });
  if (missing !== undefined) return { missing };
  return invalid !== undefined ? { invalid } : { path: filled };
}

function valueOf(
  inner: string,
  values: { query: Record<string, unknown>; subject: string; tenant: string },
): string | undefined {
  if (inner === 'subject') return values.subject;
  if (inner === 'tenant') return values.tenant;
  // Own values only: `{query.constructor}` is not Object's constructor.
  const name = inner.slice('query.'.length);
  const value = Object.hasOwn(values.query, name) ? values.query[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}
