/**
 * The walker: is every value valid for the writer valid for the reader? It expands the
 * reader into its parts, splits a writer union into branches, and runs every rule of
 * every reader part against the writer. Recursion through `$ref` is assumed compatible
 * when met again (the enclosing comparison checks everything else), and results are
 * memoised so that schemas sharing definitions stay linear.
 */

import {
  anyOfRule,
  conditionalRule,
  notRule,
  oneOfRule,
  splitWriterUnion,
} from './combinator-rules.ts';
import { arrayRule } from './array-rules.ts';
import {
  capitalize,
  type CheckContext,
  CheckTooComplex,
  COMPARISON_STEPS,
  type Rule,
  spend,
  unresolvedReference,
} from './check-context.ts';
import { type Conjunction, conjunctionOf, placeOf } from './conjunction.ts';
import { jsonEqual } from './json-equal.ts';
import { type JsonType, mayBe, typesOfConjunction } from './json-types.ts';
import {
  acceptsEverything,
  asObject,
  hasOwnAssertions,
  refOf,
  type SchemaObject,
} from './keywords.ts';
import { numberRule } from './number-rules.ts';
import { objectRule } from './object-rules.ts';
import { describeLocation, type Located } from './schema-document.ts';
import { stringRule } from './string-rules.ts';
import { enumRule, typeRule } from './type-rules.ts';
import type { Incompatibility } from './types.ts';
import { uniqueIncompatibilities } from './unique-incompatibilities.ts';

const MAX_DEPTH = 400;

/** Rules for every value, then rules that only matter when the writer can produce the type. */
const GENERAL_RULES: readonly Rule[] = [
  typeRule,
  enumRule,
  notRule,
  conditionalRule,
  anyOfRule,
  oneOfRule,
];
const RULES_BY_TYPE: readonly (readonly [JsonType, Rule])[] = [
  ['string', stringRule],
  ['number', numberRule],
  ['array', arrayRule],
  ['object', objectRule],
];

export function compareSchemas(
  context: CheckContext,
  writer: Conjunction,
  reader: Located,
): Incompatibility[] {
  if (writer.empty || acceptsEverything(reader.schema)) return [];
  if (sameSchemaWithoutRefs(writer, reader)) return [];
  // Key a reference by what it points at, so that every site sharing a definition shares the result.
  const target = followReferences(context, reader);
  if (target !== reader) return compareSchemas(context, writer, target);
  const { state } = context;
  const recursionKey = keyOf(context, writer, reader, false);
  const key = keyOf(context, writer, reader, true);
  const known = state.done.get(key);
  if (known) return known;
  if (state.inProgress.has(recursionKey)) return [];
  if (state.depth >= MAX_DEPTH) throw new CheckTooComplex();
  spend(context, COMPARISON_STEPS);
  state.inProgress.add(recursionKey);
  state.depth++;
  let result: Incompatibility[];
  try {
    result = compareExpanded(context, writer, reader);
  } finally {
    state.inProgress.delete(recursionKey);
    state.depth--;
  }
  state.done.set(key, result);
  return result;
}

function compareExpanded(
  context: CheckContext,
  writer: Conjunction,
  reader: Located,
): Incompatibility[] {
  const readerParts = conjunctionOf(context.resolve, reader, [reader]);
  // Many paths can reach one definition: results are de-duplicated at every level.
  const out: Incompatibility[] = readerParts.unresolved.map((u) =>
    unresolvedReference(context.readerName, u),
  );
  if (readerParts.parts.length === 0 && !readerParts.empty) return out;
  // Values of an unknown schema: report the reference, not guesses about what it allows.
  if (writer.unresolved.length > 0) {
    return [...out, ...writer.unresolved.map((u) => unresolvedReference(context.writerName, u))];
  }
  if (readerParts.empty) {
    const detail = `${capitalize(context.readerName)} accepts no value here (false); ${context.writerName} allows some`;
    const where = context.newSide === 'reader' ? reader : placeOf(writer);
    out.push({ pointer: describeLocation(where), change: 'schema-false', detail });
    return out;
  }
  const split = splitWriterUnion(context, writer, reader, readerParts.parts);
  if (split) return uniqueIncompatibilities([out, split]);
  // Every rule runs per reader part and reads the writer's parts.
  spend(context, readerParts.parts.length * (1 + writer.parts.length));
  const writerSchemas = writer.parts.map((p) => asObject(p.schema) ?? {});
  const writerTypes = typesOfConjunction(writerSchemas);
  const lists = [out];
  for (const part of readerParts.parts) {
    const input = {
      context,
      writer,
      writerSchemas,
      writerTypes,
      reader: part,
      readerSchema: asObject(part.schema) ?? {},
      readerParts: readerParts.parts,
    };
    for (const rule of GENERAL_RULES) lists.push(rule(input));
    for (const [type, rule] of RULES_BY_TYPE) if (mayBe(writerTypes, type)) lists.push(rule(input));
  }
  return uniqueIncompatibilities(lists);
}

/** Follows a chain of schemas that are only a `$ref` (not a loop of them) to its end. */
function followReferences(context: CheckContext, reader: Located): Located {
  const seen = new Set<unknown>([reader.schema]);
  let current = reader;
  for (
    let next = referencedSchema(context, current);
    next;
    next = referencedSchema(context, current)
  ) {
    if (seen.has(next.schema)) return reader; // a loop of bare references: expansion handles it
    seen.add(next.schema);
    current = next;
  }
  return current;
}

/** The schema a reader that is only a `$ref` stands for, when it resolves. */
function referencedSchema(context: CheckContext, reader: Located): Located | undefined {
  const schema = asObject(reader.schema);
  const ref = schema && refOf(schema);
  if (!schema || ref === undefined || (!reader.doc.legacy && hasOwnAssertions(schema)))
    return undefined;
  if (schema['allOf'] !== undefined) return undefined;
  const resolution = context.resolve(reader, ref);
  return resolution.ok && resolution.target.schema !== reader.schema
    ? resolution.target
    : undefined;
}

/** Identical subschemas without references are compatible whatever they say. */
function sameSchemaWithoutRefs(writer: Conjunction, reader: Located): boolean {
  const [only] = writer.parts;
  if (writer.parts.length !== 1 || !only || only.consumed?.length || writer.unresolved.length)
    return false;
  return jsonEqual(only.schema, reader.schema) && !containsRef(reader.schema, 0);
}

function containsRef(value: unknown, depth: number): boolean {
  if (depth > 64) return true; // too deep to be worth proving: take the long way
  if (Array.isArray(value)) return value.some((v) => containsRef(v, depth + 1));
  const object = asObject(value);
  if (!object) return false;
  if (refOf(object as SchemaObject) !== undefined) return true;
  return Object.values(object).some((v) => containsRef(v, depth + 1));
}

function keyOf(
  context: CheckContext,
  writer: Conjunction,
  reader: Located,
  withHome: boolean,
): string {
  const { ids } = context.state;
  const id = (value: unknown): string => {
    if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'undefined';
    let n = ids.get(value);
    if (n === undefined) {
      n = ++context.state.lastId;
      ids.set(value, n);
    }
    return String(n);
  };
  const place = (l: Located) =>
    `${id(l.doc)}:${id(l.schema)}@${l.pointer}~${l.consumed?.join(',') ?? ''}`;
  return [
    context.newSide,
    context.writerName,
    withHome && writer.parts.length === 0 ? place(writer.home) : '',
    writer.parts.map(place).join('&'),
    writer.empty,
    writer.unresolved.length,
    place(reader),
  ].join('|');
}
