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

/** Syntax errors of the shape and unknown placeholders, as field errors. */
export function compositionErrors(c: Composition): FieldError[] {
  const errors: FieldError[] = [];
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

/** The part's path with the request's values in; undefined names the missing value. */
export function fillPath(
  path: string,
  values: { query: Record<string, string | undefined>; subject: string; tenant: string },
): { path: string } | { missing: string } {
  let missing: string | undefined;
  const filled = path.replace(PLACEHOLDER, (_all, inner: string) => {
    const value =
      inner === 'subject'
        ? values.subject
        : inner === 'tenant'
          ? values.tenant
          : values.query[inner.slice('query.'.length)];
    if (value === undefined) missing ??= inner;
    return encodeURIComponent(value ?? '');
  });
  return missing !== undefined ? { missing } : { path: filled };
}
