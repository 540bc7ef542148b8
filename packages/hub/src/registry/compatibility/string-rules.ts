/** String keywords: lengths, pattern, format, content encoding and media type. */

import { capitalize, regexFor, type Rule, show } from './check-context.ts';
import { writerValues } from './type-rules.ts';
import { numberAt, stringAt } from './keywords.ts';
import {
  keywordReporter,
  reportMaximum,
  reportMinimum,
  STRING_SIZE,
  tightest,
} from './size-bounds.ts';
import type { Incompatibility } from './types.ts';

export const stringRule: Rule = (input) => {
  const { context, writerSchemas, readerSchema } = input;
  const out: Incompatibility[] = [];
  const W = context.writerName;
  const R = context.readerName;
  const report = keywordReporter(input, out);

  // A writer listing its values (enum/const) is judged by those values where that is exact.
  const listed = writerValues(writerSchemas)?.filter((v): v is string => typeof v === 'string');
  const lengths = listed?.map((v) => [...v].length);
  const fitsAll = (test: (value: string, length: number) => boolean) =>
    listed !== undefined && listed.every((v, i) => test(v, lengths?.[i] ?? 0));

  const maxLength = numberAt(readerSchema, 'maxLength');
  if (maxLength !== undefined && !fitsAll((_, length) => length <= maxLength)) {
    const [written, at] = tightest(writerSchemas, 'maxLength', Math.min);
    reportMaximum(report, input, 'maxLength', STRING_SIZE, {
      allowed: maxLength,
      written: written ?? Infinity,
      at,
    });
  }
  const minLength = numberAt(readerSchema, 'minLength');
  if (minLength !== undefined && minLength > 0 && !fitsAll((_, length) => length >= minLength)) {
    const [declared, at] = tightest(writerSchemas, 'minLength', Math.max);
    reportMinimum(report, input, 'minLength', STRING_SIZE, {
      required: minLength,
      declared,
      guaranteed: declared ?? 0,
      at,
    });
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
