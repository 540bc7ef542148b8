/**
 * What every rule of one check shares: the options, how to name the two schemas, which
 * of them is the new one (pointers point into it), and the walker to recurse with.
 */

import { compileLinearPattern, type LinearPattern } from '../linear-pattern.ts';
import { type Conjunction, placeOf, type Unresolved } from './conjunction.ts';
import type { JsonType } from './json-types.ts';
import type { SchemaObject } from './keywords.ts';
import type { PointerSegment } from './json-pointer.ts';
import type { RefResolver } from './ref-resolver.ts';
import { describeLocation, type Located, placeAt } from './schema-document.ts';
import type { Incompatibility } from './types.ts';

export type CheckState = {
  /**
   * Comparisons under way, keyed without the writer's home: meeting one again means
   * recursion (possibly along a growing path), assumed compatible.
   */
  readonly inProgress: Set<string>;
  readonly done: Map<string, Incompatibility[]>;
  readonly ids: WeakMap<object, number>;
  lastId: number;
  readonly patterns: Map<string, LinearPattern | null>;
  /**
   * Work left before the check gives up (a pathological schema must not hang us), in
   * steps: see `spend`. Shared by the checks of one request (run-check.ts).
   */
  readonly budget: { remaining: number };
  depth: number;
};

export type CheckContext = {
  readonly allowOptionalPropertyInOpenModel: boolean;
  readonly resolve: RefResolver;
  /** How details name the schema whose data is read, and the one reading it. */
  readonly writerName: string;
  readonly readerName: string;
  /** The new schema is the reader (backward) or the writer (forward). */
  readonly newSide: 'reader' | 'writer';
  readonly state: CheckState;
  /** Writer ⊆ reader: every value valid for the writer is valid for the reader? */
  readonly compare: (
    context: CheckContext,
    writer: Conjunction,
    reader: Located,
  ) => Incompatibility[];
};

export class CheckTooComplex extends Error {}

/**
 * Charges `steps` of work to the check's budget; beyond it the check is
 * `check-too-complex`. A comparison of two subschemas costs COMPARISON_STEPS; the loops
 * inside one comparison that grow with the schemas (writer parts per reader part, property
 * names against parts and patterns) cost a step per item, so that a single comparison of
 * wide schemas (thousands of allOf parts or patternProperties) is bounded too.
 */
export function spend(context: CheckContext, steps: number): void {
  const budget = context.state.budget;
  budget.remaining -= steps;
  if (budget.remaining < 0) throw new CheckTooComplex();
}

/** What a comparison costs, in steps (about as long as twenty of the smaller steps). */
export const COMPARISON_STEPS = 20;

/** The same context with writer and reader exchanged (for `not`, which is contravariant). */
export function swapRoles(context: CheckContext): CheckContext {
  return {
    ...context,
    writerName: context.readerName,
    readerName: context.writerName,
    newSide: context.newSide === 'reader' ? 'writer' : 'reader',
  };
}

export type Place = { readonly location: Located; readonly segments?: readonly PointerSegment[] };

/** An incompatibility located in whichever of the two schemas is the new one. */
export function incompatibility(
  context: CheckContext,
  change: string,
  detail: string,
  reader: Place,
  writer: Place,
): Incompatibility {
  const place = context.newSide === 'reader' ? reader : writer;
  return { pointer: describeLocation(place.location, ...(place.segments ?? [])), change, detail };
}

/** A short account of nested reasons, for a change reported as one incompatibility. */
export function because(nested: readonly Incompatibility[]): string {
  if (nested.length === 0) return '';
  const shown = nested
    .slice(0, 3)
    .map((n) => `${n.change} at ${n.pointer === '' ? '(root)' : n.pointer}`)
    .join('; ');
  return ` (${shown}${nested.length > 3 ? `; and ${nested.length - 3} more` : ''})`;
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * A compiled `pattern`/`patternProperties` regex, or null when it does not compile. Both the
 * patterns and the strings tested (enum values, property names) come from the schemas: the
 * matcher runs in linear time, and a pattern it cannot run is null (nothing proven).
 */
export function regexFor(context: CheckContext, pattern: string): LinearPattern | null {
  const cache = context.state.patterns;
  let regex = cache.get(pattern);
  if (regex === undefined) {
    try {
      regex = compileLinearPattern(pattern);
    } catch {
      regex = null;
    }
    cache.set(pattern, regex);
  }
  return regex;
}

/** What a rule sees: one reader part, against the whole writer conjunction. */
export type RuleInput = {
  readonly context: CheckContext;
  readonly writer: Conjunction;
  /** `writer.parts` as objects, index for index. */
  readonly writerSchemas: readonly SchemaObject[];
  readonly writerTypes: ReadonlySet<JsonType>;
  readonly reader: Located;
  readonly readerSchema: SchemaObject;
  /** Every reader part at this place (for `unevaluatedProperties`). */
  readonly readerParts: readonly Located[];
};

export type Rule = (input: RuleInput) => Incompatibility[];

/**
 * Where a value below the writer sits, for pointers: under the first part that has the
 * keyword (a real place, also through a $ref), else under the writer's own place.
 */
export function writerHome(
  writer: Conjunction,
  keyword: string,
  ...rest: PointerSegment[]
): Located {
  const carrier =
    writer.parts.find((p) => {
      const schema = p.schema;
      return typeof schema === 'object' && schema !== null && Object.hasOwn(schema, keyword);
    }) ?? placeOf(writer);
  return placeAt(carrier, keyword, ...rest);
}

/** A `$ref` that could not be followed: nothing can be proven about the values behind it. */
export function unresolvedReference(schemaName: string, unresolved: Unresolved): Incompatibility {
  return {
    pointer: unresolved.where,
    change: 'ref-unresolvable',
    detail: `$ref ${JSON.stringify(unresolved.ref)} in ${schemaName} cannot be resolved (${unresolved.reason}), so compatibility cannot be proven`,
  };
}
