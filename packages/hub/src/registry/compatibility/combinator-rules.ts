/**
 * anyOf / oneOf / not / if-then-else. Like Confluent and Apicurio, subschemas are matched
 * one to one (a writer branch must fit inside one reader branch), and oneOf's "exactly
 * one" is not re-proven, except that anyOf becoming oneOf is refused.
 */

import {
  because,
  capitalize,
  type CheckContext,
  incompatibility,
  type Rule,
  spend,
  swapRoles,
  writerHome,
} from './check-context.ts';
import { type Conjunction, conjunctionOf, extend, placeOf } from './conjunction.ts';
import {
  declaredTypes,
  intersectTypes,
  type JsonType,
  typeAccepted,
  typesOfConjunction,
} from './json-types.ts';
import { asObject, hasOwnAssertions } from './keywords.ts';
import { type Located, placeAt } from './schema-document.ts';
import type { Incompatibility } from './types.ts';

const UNIONS = ['anyOf', 'oneOf'] as const;

/** Schemas standing for "the writer's values of one type", to split a multi-type writer. */
const TYPE_ONLY: Readonly<Record<JsonType, object>> = Object.freeze({
  null: Object.freeze({ type: 'null' }),
  boolean: Object.freeze({ type: 'boolean' }),
  object: Object.freeze({ type: 'object' }),
  array: Object.freeze({ type: 'array' }),
  string: Object.freeze({ type: 'string' }),
  number: Object.freeze({ type: 'number' }),
  integer: Object.freeze({ type: 'integer' }),
});

/**
 * A writer that is a union is compatible when each of its branches is. Returns undefined
 * when the writer has no union left to split.
 */
export function splitWriterUnion(
  context: CheckContext,
  writer: Conjunction,
  reader: Located,
  readerParts: readonly Located[],
): Incompatibility[] | undefined {
  for (const [index, part] of writer.parts.entries()) {
    const schema = asObject(part.schema) ?? {};
    const keyword = UNIONS.find(
      (k) =>
        !part.consumed?.includes(k) && Array.isArray(schema[k]) && (schema[k] as []).length > 0,
    );
    if (!keyword) continue;
    const branches = schema[keyword] as unknown[];
    const out: Incompatibility[] = [];
    const exclusiveReader = readerParts.find((p) => Array.isArray(asObject(p.schema)?.['oneOf']));
    if (keyword === 'anyOf' && branches.length > 1 && exclusiveReader) {
      const detail = `${capitalize(context.writerName)} combines subschemas with anyOf, so a value may match several of them; ${
        context.readerName
      } requires it to match exactly one (oneOf)`;
      out.push(
        incompatibility(
          context,
          'combined-type-changed',
          detail,
          { location: exclusiveReader, segments: ['oneOf'] },
          { location: part, segments: ['anyOf'] },
        ),
      );
    }
    const consumed = [...(part.consumed ?? []), keyword];
    // A part that was only the union drops out, so that branches compare (and cache) alike.
    const split = writer.parts.flatMap((p, i) =>
      i !== index ? [p] : hasOwnAssertions(schema, consumed) ? [{ ...p, consumed }] : [],
    );
    const rest: Conjunction = { ...writer, parts: split };
    branches.forEach((_, i) => {
      const branch = extend(context.resolve, rest, [placeAt(part, keyword, i)]);
      out.push(...context.compare(context, branch, reader));
    });
    return out;
  }
  return undefined;
}

/** The reader's anyOf/oneOf: the writer (or each of its types) must fit one subschema. */
function unionRule(keyword: (typeof UNIONS)[number]): Rule {
  return ({ context, writer, writerSchemas, writerTypes, reader, readerSchema }) => {
    const list = readerSchema[keyword];
    if (!Array.isArray(list) || list.length === 0) return [];
    const branches = list.map((_, i) => placeAt(reader, keyword, i));
    const trials: Incompatibility[][] = [];
    for (const branch of branches) {
      const result = context.compare(context, writer, branch);
      if (result.length === 0) return [];
      trials.push(result);
    }
    // A writer declaring several types ("type": ["string", "number"]) is a union too. Only an
    // explicit `type` is split, as the peers do: a schema without one is not split by type.
    const declared = writerSchemas.some((s) => declaredTypes(s)) ? writerTypes : undefined;
    const fitsTypeByType =
      declared !== undefined &&
      declared.size > 1 &&
      [...declared].every((t) =>
        branches.some(
          (b) => context.compare(context, onlyType(context, writer, t), b).length === 0,
        ),
      );
    if (fitsTypeByType) return [];
    // One subschema of the writer's types (the usual [X, null]): its own reasons say it best.
    spend(context, branches.length);
    const sameType = branches.flatMap((branch, i) => {
      const parts = conjunctionOf(context.resolve, branch, [branch]).parts;
      const types = typesOfConjunction(parts.map((p) => asObject(p.schema) ?? {}));
      return intersectTypes(types, writerTypes).size > 0 ? [i] : [];
    });
    if (sameType.length === 1) return trials[sameType[0] ?? 0] ?? [];
    const closest = trials.reduce((a, b) => (b.length < a.length ? b : a));
    const detail = `Values valid for ${context.writerName} match none of the ${keyword} subschemas of ${
      context.readerName
    }; the closest one differs by${because(closest)}`;
    return [
      incompatibility(
        context,
        keyword === 'anyOf' ? 'any-of-narrowed' : 'one-of-narrowed',
        detail,
        { location: reader, segments: [keyword] },
        { location: placeOf(writer) },
      ),
    ];
  };
}

export const anyOfRule = unionRule('anyOf');
export const oneOfRule = unionRule('oneOf');

function onlyType(context: CheckContext, writer: Conjunction, type: JsonType): Conjunction {
  const home = placeOf(writer);
  return extend(context.resolve, writer, [{ ...home, schema: TYPE_ONLY[type], consumed: [] }]);
}

/** not: contravariant, so the reader's forbidden set must lie inside the writer's. */
export const notRule: Rule = ({
  context,
  writer,
  writerSchemas,
  writerTypes,
  reader,
  readerSchema,
}) => {
  if (!Object.hasOwn(readerSchema, 'not')) return [];
  const forbidden = placeAt(reader, 'not');
  const forbiddenTypes = declaredTypes(asObject(forbidden.schema) ?? {});
  const disjoint =
    forbiddenTypes !== undefined &&
    [...writerTypes].every(
      (t) => !typeAccepted(forbiddenTypes, t) && !(t === 'number' && forbiddenTypes.has('integer')),
    );
  if (disjoint) return [];
  const swapped = swapRoles(context);
  const forbiddenByReader = conjunctionOf(context.resolve, forbidden, [forbidden]);
  let writerNot: Located | undefined;
  for (const [i, schema] of writerSchemas.entries()) {
    if (!Object.hasOwn(schema, 'not')) continue;
    writerNot = placeAt(writer.parts[i] ?? placeOf(writer), 'not');
    if (context.compare(swapped, forbiddenByReader, writerNot).length === 0) return [];
  }
  const detail = writerNot
    ? `${capitalize(context.readerName)} forbids (not) values that ${context.writerName} allows: its "not" subschema is wider`
    : `${capitalize(context.readerName)} forbids (not) values that ${context.writerName} allows`;
  return [
    incompatibility(
      context,
      writerNot ? 'not-changed' : 'not-added',
      detail,
      { location: reader, segments: ['not'] },
      { location: writerNot ?? placeOf(writer), segments: writerNot ? [] : ['not'] },
    ),
  ];
};

/** if/then/else: branch by branch when both schemas test the same condition. */
export const conditionalRule: Rule = ({ context, writer, writerSchemas, reader, readerSchema }) => {
  if (!Object.hasOwn(readerSchema, 'if')) return [];
  const hasThen = Object.hasOwn(readerSchema, 'then');
  const hasElse = Object.hasOwn(readerSchema, 'else');
  if (!hasThen && !hasElse) return [];
  const condition = placeAt(reader, 'if');
  const sameIndex = writerSchemas.findIndex(
    (schema, i) =>
      Object.hasOwn(schema, 'if') &&
      equivalent(context, placeAt(writer.parts[i] ?? placeOf(writer), 'if'), condition),
  );
  const same = writer.parts[sameIndex];
  if (same) {
    const out: Incompatibility[] = [];
    if (hasThen) {
      const whenTrue = extend(context.resolve, writer, [
        placeAt(same, 'if'),
        placeAt(same, 'then'),
      ]);
      out.push(...context.compare(context, whenTrue, placeAt(reader, 'then')));
    }
    if (hasElse) {
      const whenFalse = extend(context.resolve, writer, [placeAt(same, 'else')]);
      out.push(...context.compare(context, whenFalse, placeAt(reader, 'else')));
    }
    return out;
  }
  const nested = [
    ...(hasThen ? context.compare(context, writer, placeAt(reader, 'then')) : []),
    ...(hasElse ? context.compare(context, writer, placeAt(reader, 'else')) : []),
  ];
  if (nested.length === 0) return [];
  const hadCondition = writerSchemas.some((s) => Object.hasOwn(s, 'if'));
  const detail = `${capitalize(context.readerName)} applies a condition (if/then/else) that ${
    context.writerName
  }'s values do not all satisfy${because(nested)}`;
  return [
    incompatibility(
      context,
      hadCondition ? 'condition-changed' : 'condition-added',
      detail,
      { location: reader, segments: ['if'] },
      { location: writerHome(writer, 'if') },
    ),
  ];
};

function equivalent(context: CheckContext, a: Located, b: Located): boolean {
  const { resolve, compare } = context;
  return (
    compare(context, conjunctionOf(resolve, a, [a]), b).length === 0 &&
    compare(context, conjunctionOf(resolve, b, [b]), a).length === 0
  );
}
