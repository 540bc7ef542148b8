/**
 * The size keywords (minLength/maxLength, minItems/maxItems, minProperties/maxProperties)
 * follow one rule: the reader's bound may not be tighter than what the writer guarantees.
 * Shared here so that strings, arrays and objects report it in the same words.
 */

import { capitalize, incompatibility, type RuleInput } from './check-context.ts';
import { placeOf } from './conjunction.ts';
import { numberAt } from './keywords.ts';
import type { Incompatibility } from './types.ts';

/** Reports an incompatibility at `keyword`, in the reader and in the writer's part `at`. */
export type KeywordReport = (change: string, detail: string, keyword: string, at: number) => void;

export function keywordReporter(
  { context, writer, reader }: RuleInput,
  out: Incompatibility[],
): KeywordReport {
  return (change, detail, keyword, at) =>
    out.push(
      incompatibility(
        context,
        change,
        detail,
        { location: reader, segments: [keyword] },
        { location: writer.parts[at] ?? placeOf(writer), segments: [keyword] },
      ),
    );
}

/** How a size is named: `5 characters`, `shorter strings`, `larger objects`. */
export type SizeWords = {
  readonly unit: string;
  readonly values: string;
  readonly smaller: string;
  readonly larger: string;
};

export const STRING_SIZE: SizeWords = {
  unit: 'characters',
  values: 'strings',
  smaller: 'shorter',
  larger: 'longer',
};
export const ARRAY_SIZE: SizeWords = {
  unit: 'items',
  values: 'arrays',
  smaller: 'shorter',
  larger: 'longer',
};
export const OBJECT_SIZE: SizeWords = {
  unit: 'properties',
  values: 'objects',
  smaller: 'smaller',
  larger: 'larger',
};

/** `minItems` → `min-items`, for change names. */
const changeBase = (keyword: string) => keyword.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * A reader's minimum against the writer's: `declared` is the writer's own keyword (if any),
 * `guaranteed` the least size the writer's values have (at least `declared`).
 */
export function reportMinimum(
  report: KeywordReport,
  { context }: RuleInput,
  keyword: string,
  words: SizeWords,
  bound: { required: number; declared: number | undefined; guaranteed: number; at: number },
): void {
  const { required, declared, guaranteed, at } = bound;
  if (guaranteed >= required) return;
  const W = context.writerName;
  const R = context.readerName;
  if (declared === undefined)
    report(
      `${changeBase(keyword)}-added`,
      `${capitalize(R)} requires at least ${required} ${words.unit}; ${W} does not`,
      keyword,
      at,
    );
  else
    report(
      `${changeBase(keyword)}-increased`,
      `${keyword} increased from ${guaranteed} to ${required}: ${words.smaller} ${words.values} valid for ${W} are refused by ${R}`,
      keyword,
      at,
    );
}

/** A reader's maximum against the most the writer allows (`Infinity`: no limit). */
export function reportMaximum(
  report: KeywordReport,
  { context }: RuleInput,
  keyword: string,
  words: SizeWords,
  bound: { allowed: number; written: number; at: number },
): void {
  const { allowed, written, at } = bound;
  const W = context.writerName;
  const R = context.readerName;
  if (written === Infinity)
    report(
      `${changeBase(keyword)}-added`,
      `${capitalize(R)} allows at most ${allowed} ${words.unit}; ${W} has no limit`,
      keyword,
      at,
    );
  else if (written > allowed)
    report(
      `${changeBase(keyword)}-decreased`,
      `${keyword} decreased from ${written} to ${allowed}: ${words.larger} ${words.values} valid for ${W} are refused by ${R}`,
      keyword,
      at,
    );
}

/** The strictest value of a numeric keyword over the writer's parts, and which part has it. */
export function tightest(
  schemas: readonly Record<string, unknown>[],
  keyword: string,
  pick: (a: number, b: number) => number,
): [number | undefined, number] {
  let value: number | undefined;
  let at = -1;
  for (const [i, schema] of schemas.entries()) {
    const v = numberAt(schema, keyword);
    if (v === undefined) continue;
    if (value === undefined || pick(v, value) !== value) {
      value = v;
      at = i;
    }
  }
  return [value, at];
}
