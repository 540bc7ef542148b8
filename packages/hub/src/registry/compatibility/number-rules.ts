/** Numeric keywords: bounds (inclusive, exclusive, draft-04 boolean form) and multipleOf. */

import { placeOf } from './conjunction.ts';
import { capitalize, incompatibility, type Rule } from './check-context.ts';
import { numberAt, type SchemaObject } from './keywords.ts';
import type { Incompatibility } from './types.ts';

type Bound = { value: number; exclusive: boolean; keyword: string };
type Side = 'lower' | 'upper';

const KEYWORDS = {
  lower: { inclusive: 'minimum', exclusive: 'exclusiveMinimum' },
  upper: { inclusive: 'maximum', exclusive: 'exclusiveMaximum' },
} as const;

export const numberRule: Rule = ({
  context,
  writer,
  writerSchemas,
  writerTypes,
  reader,
  readerSchema,
}) => {
  const out: Incompatibility[] = [];
  const W = context.writerName;
  const R = context.readerName;
  for (const side of ['lower', 'upper'] as const) {
    const required = boundOf(readerSchema, side);
    if (!required) continue;
    let written: Bound | undefined;
    let at = -1;
    for (const [i, schema] of writerSchemas.entries()) {
      const bound = boundOf(schema, side);
      if (bound && (!written || tighter(bound, written, side))) {
        written = bound;
        at = i;
      }
    }
    if (written && tighter(written, required, side)) continue;
    const word = side === 'lower' ? 'minimum' : 'maximum';
    const change = !written
      ? `${dashed(required.keyword)}-added`
      : `${dashed(required.keyword)}-${side === 'lower' ? 'increased' : 'decreased'}`;
    const detail = !written
      ? `${capitalize(R)} sets a ${word} of ${show(required)}; ${W} has none`
      : `The ${word} moved from ${show(written)} to ${show(required)}: numbers valid for ${W} are refused by ${R}`;
    out.push(
      incompatibility(
        context,
        change,
        detail,
        { location: reader, segments: [required.keyword] },
        {
          location: writer.parts[at] ?? placeOf(writer),
          segments: [written?.keyword ?? required.keyword],
        },
      ),
    );
  }

  const step = numberAt(readerSchema, 'multipleOf');
  if (step !== undefined && step > 0) {
    const integersOnly = writerTypes.has('integer') && !writerTypes.has('number');
    const steps = writerSchemas.map((s) => numberAt(s, 'multipleOf'));
    const fits =
      steps.some((s) => s !== undefined && isMultiple(s, step)) ||
      (integersOnly && isMultiple(1, step));
    if (!fits) {
      const at = steps.findIndex((s) => s !== undefined);
      const had = steps[at];
      out.push(
        incompatibility(
          context,
          had === undefined ? 'multiple-of-added' : 'multiple-of-changed',
          had === undefined
            ? `${capitalize(R)} requires multiples of ${step}; ${W} does not`
            : `multipleOf changed from ${had} to ${step}: multiples of ${had} are not all multiples of ${step}`,
          { location: reader, segments: ['multipleOf'] },
          { location: writer.parts[at] ?? placeOf(writer), segments: ['multipleOf'] },
        ),
      );
    }
  }
  return out;
};

/** The bound a schema sets on one side, the exclusive one winning a tie. */
function boundOf(schema: SchemaObject, side: Side): Bound | undefined {
  const { inclusive, exclusive } = KEYWORDS[side];
  const plain = numberAt(schema, inclusive);
  const strict = numberAt(schema, exclusive);
  // Draft-04: `exclusiveMinimum: true` turns `minimum` exclusive.
  const legacyExclusive = schema[exclusive] === true;
  const candidates: Bound[] = [];
  if (plain !== undefined)
    candidates.push({ value: plain, exclusive: legacyExclusive, keyword: inclusive });
  if (strict !== undefined) candidates.push({ value: strict, exclusive: true, keyword: exclusive });
  return candidates.reduce<Bound | undefined>(
    (a, b) => (!a || tighter(b, a, side) ? b : a),
    undefined,
  );
}

/** Whether `a` admits no value that `b` refuses, on this side. */
function tighter(a: Bound, b: Bound, side: Side): boolean {
  if (a.value === b.value) return a.exclusive || !b.exclusive;
  return side === 'lower' ? a.value > b.value : a.value < b.value;
}

function isMultiple(value: number, step: number): boolean {
  const quotient = value / step;
  return Math.abs(quotient - Math.round(quotient)) < 1e-9;
}

function show(bound: Bound): string {
  return `${bound.value}${bound.exclusive ? ' (exclusive)' : ''}`;
}

function dashed(keyword: string): string {
  return keyword.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
