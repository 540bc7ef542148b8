/** String keywords: lengths, pattern, format, content encoding and media type. */

import { placeOf } from './conjunction.ts';
import { capitalize, incompatibility, regexFor, type Rule, show } from './check-context.ts';
import { writerValues } from './type-rules.ts';
import { numberAt, stringAt } from './keywords.ts';
import type { Incompatibility } from './types.ts';

export const stringRule: Rule = (input) => {
  const { context, writer, writerSchemas, reader, readerSchema } = input;
  const out: Incompatibility[] = [];
  const W = context.writerName;
  const R = context.readerName;
  const report = (change: string, detail: string, keyword: string, writerIndex: number) =>
    out.push(
      incompatibility(
        context,
        change,
        detail,
        { location: reader, segments: [keyword] },
        { location: writer.parts[writerIndex] ?? placeOf(writer), segments: [keyword] },
      ),
    );

  // A writer listing its values (enum/const) is judged by those values where that is exact.
  const listed = writerValues(writerSchemas)?.filter((v): v is string => typeof v === 'string');
  const lengths = listed?.map((v) => [...v].length);
  const fitsAll = (test: (value: string, length: number) => boolean) =>
    listed !== undefined && listed.every((v, i) => test(v, lengths?.[i] ?? 0));

  const maxLength = numberAt(readerSchema, 'maxLength');
  if (maxLength !== undefined && !fitsAll((_, length) => length <= maxLength)) {
    const [written, at] = tightest(writerSchemas, 'maxLength', Math.min);
    if (written === undefined) {
      report(
        'max-length-added',
        `${capitalize(R)} limits strings to ${maxLength} characters; ${W} does not`,
        'maxLength',
        at,
      );
    } else if (written > maxLength) {
      report(
        'max-length-decreased',
        `maxLength decreased from ${written} to ${maxLength}: longer strings valid for ${W} are refused by ${R}`,
        'maxLength',
        at,
      );
    }
  }
  const minLength = numberAt(readerSchema, 'minLength');
  if (minLength !== undefined && minLength > 0 && !fitsAll((_, length) => length >= minLength)) {
    const [written, at] = tightest(writerSchemas, 'minLength', Math.max);
    if (written === undefined) {
      report(
        'min-length-added',
        `${capitalize(R)} requires at least ${minLength} characters; ${W} does not`,
        'minLength',
        at,
      );
    } else if (written < minLength) {
      report(
        'min-length-increased',
        `minLength increased from ${written} to ${minLength}: shorter strings valid for ${W} are refused by ${R}`,
        'minLength',
        at,
      );
    }
  }
  // Regular expressions and formats cannot be compared in general: only the same one is safe.
  for (const [keyword, base] of [
    ['pattern', 'pattern'],
    ['format', 'format'],
    ['contentEncoding', 'content-encoding'],
    ['contentMediaType', 'content-media-type'],
  ] as const) {
    const wanted = stringAt(readerSchema, keyword);
    if (wanted === undefined) continue;
    if (writerSchemas.some((s) => stringAt(s, keyword) === wanted)) continue;
    if (keyword === 'pattern' && fitsAll((v) => regexFor(context, wanted)?.test(v) === true))
      continue;
    const at = writerSchemas.findIndex((s) => stringAt(s, keyword) !== undefined);
    const had = at >= 0 ? stringAt(writerSchemas[at] ?? {}, keyword) : undefined;
    if (had === undefined) {
      report(
        `${base}-added`,
        `${capitalize(R)} requires ${keyword} ${show(wanted)}; ${W} has none`,
        keyword,
        at,
      );
    } else {
      report(
        `${base}-changed`,
        `${keyword} changed from ${show(had)} to ${show(wanted)}: strings valid for ${W} may be refused by ${R}`,
        keyword,
        at,
      );
    }
  }
  return out;
};

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
