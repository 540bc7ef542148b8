/** Array keywords: items and tuples (draft-07 and 2020-12 forms), counts, contains, uniqueness. */

import {
  because,
  capitalize,
  incompatibility,
  type Rule,
  type RuleInput,
  writerHome,
} from './check-context.ts';
import { conjunctionOf, placeOf } from './conjunction.ts';
import { jsonEqual } from './json-equal.ts';
import { acceptsEverything, asObject, numberAt } from './keywords.ts';
import { type Located, placeAt } from './schema-document.ts';
import {
  ARRAY_SIZE,
  keywordReporter,
  reportMaximum,
  reportMinimum,
  tightest,
} from './size-bounds.ts';
import type { Incompatibility } from './types.ts';

/** Positional items, then the schema for every later item (undefined: anything). */
type ItemsView = {
  readonly prefix: readonly Located[];
  readonly prefixKeyword: 'items' | 'prefixItems';
  readonly rest: Located | undefined;
  readonly restKeyword: string;
};

export function itemsView(location: Located): ItemsView {
  const schema = asObject(location.schema) ?? {};
  const has = (k: string) => Object.hasOwn(schema, k);
  const list = (k: string) => (schema[k] as unknown[]).map((_, i) => placeAt(location, k, i));
  let view: ItemsView;
  if (Array.isArray(schema['prefixItems'])) {
    const rest =
      has('items') && !Array.isArray(schema['items']) ? placeAt(location, 'items') : undefined;
    view = {
      prefix: list('prefixItems'),
      prefixKeyword: 'prefixItems',
      rest,
      restKeyword: 'items',
    };
  } else if (Array.isArray(schema['items'])) {
    const rest = has('additionalItems') ? placeAt(location, 'additionalItems') : undefined;
    view = { prefix: list('items'), prefixKeyword: 'items', rest, restKeyword: 'additionalItems' };
  } else {
    const rest = has('items') ? placeAt(location, 'items') : undefined;
    view = { prefix: [], prefixKeyword: 'items', rest, restKeyword: 'items' };
  }
  // Approximation: unevaluatedItems read as "every item not covered above".
  if (!view.rest && has('unevaluatedItems')) {
    view = {
      ...view,
      rest: placeAt(location, 'unevaluatedItems'),
      restKeyword: 'unevaluatedItems',
    };
  }
  return view;
}

export const arrayRule: Rule = (input) => [
  ...itemRules(input),
  ...countRules(input),
  ...containsRules(input),
];

function itemRules({ context, writer, writerSchemas, reader }: RuleInput): Incompatibility[] {
  const out: Incompatibility[] = [];
  const W = context.writerName;
  const R = context.readerName;
  const readerView = itemsView(reader);
  if (readerView.prefix.length === 0 && !readerView.rest) return out;
  const writerViews = writer.parts.map(itemsView);
  const writerMax = maxItemsOf(writerSchemas, writerViews);
  const positions = Math.max(readerView.prefix.length, ...writerViews.map((v) => v.prefix.length));
  for (let i = 0; i < positions; i++) {
    if (i >= writerMax) return out;
    const sources = writerViews.flatMap((v) => v.prefix[i] ?? v.rest ?? []);
    const written = conjunctionOf(context.resolve, writerHome(writer, 'items', i), sources);
    if (written.empty) return out; // the writer's arrays never reach this index
    const readerItem = readerView.prefix[i] ?? readerView.rest;
    if (!readerItem || acceptsEverything(readerItem.schema)) continue;
    const nested = context.compare(context, written, readerItem);
    if (nested.length === 0) continue;
    const readerListsIt = i < readerView.prefix.length;
    const writerListsIt = writerViews.some((v) => i < v.prefix.length);
    if (readerListsIt === writerListsIt) {
      out.push(...nested);
    } else if (readerListsIt) {
      out.push(
        incompatibility(
          context,
          'tuple-item-added',
          `${capitalize(R)} adds item ${i} to the tuple, and item ${i} of arrays valid for ${W} does not always fit it${because(nested)}`,
          { location: reader, segments: [readerView.prefixKeyword, i] },
          { location: writerHome(writer, readerView.prefixKeyword, i) },
        ),
      );
    } else {
      out.push(
        incompatibility(
          context,
          'tuple-item-removed',
          `${capitalize(R)} no longer lists tuple item ${i}, and its ${readerView.restKeyword} does not accept item ${i} of arrays valid for ${W}${because(nested)}`,
          { location: reader, segments: [readerView.restKeyword] },
          { location: writerHome(writer, 'items', i) },
        ),
      );
    }
  }
  const readerRest = readerView.rest;
  if (writerMax <= positions || !readerRest || acceptsEverything(readerRest.schema)) return out;
  const restSources = writerViews.flatMap((v) => v.rest ?? []);
  const writtenRest = conjunctionOf(context.resolve, writerHome(writer, 'items'), restSources);
  if (writtenRest.empty) return out;
  const nested = context.compare(context, writtenRest, readerRest);
  if (nested.length === 0) return out;
  const where = { location: reader, segments: [readerView.restKeyword] };
  const writerWhere = { location: writerHome(writer, readerView.restKeyword) };
  if (readerRest.schema === false) {
    const detail = `${capitalize(R)} allows no items after the first ${positions}; ${W} allows more`;
    out.push(incompatibility(context, 'additional-items-removed', detail, where, writerWhere));
  } else if (positions === 0) {
    out.push(...nested); // plain `items`: the nested reasons say it best
  } else {
    const detail = `Items after the first ${positions} valid for ${W} are not accepted by ${R}'s ${readerView.restKeyword}${because(nested)}`;
    out.push(incompatibility(context, 'additional-items-narrowed', detail, where, writerWhere));
  }
  return out;
}

/** The most items a writer's array can hold: maxItems, or a closed tuple's length. */
function maxItemsOf(
  schemas: readonly Record<string, unknown>[],
  views: readonly ItemsView[],
): number {
  const limits = schemas.map((s) => numberAt(s, 'maxItems') ?? Infinity);
  for (const view of views) if (view.rest?.schema === false) limits.push(view.prefix.length);
  return Math.min(Infinity, ...limits);
}

function countRules(input: RuleInput): Incompatibility[] {
  const { context, writer, writerSchemas, readerSchema } = input;
  const out: Incompatibility[] = [];
  const W = context.writerName;
  const R = context.readerName;
  const report = keywordReporter(input, out);
  const minItems = numberAt(readerSchema, 'minItems');
  if (minItems !== undefined && minItems > 0) {
    const [declared, at] = tightest(writerSchemas, 'minItems', Math.max);
    reportMinimum(report, input, 'minItems', ARRAY_SIZE, {
      required: minItems,
      declared,
      guaranteed: declared ?? 0,
      at,
    });
  }
  const maxItems = numberAt(readerSchema, 'maxItems');
  if (maxItems !== undefined) {
    reportMaximum(report, input, 'maxItems', ARRAY_SIZE, {
      allowed: maxItems,
      written: maxItemsOf(writerSchemas, writer.parts.map(itemsView)),
      at: writerSchemas.findIndex((s) => numberAt(s, 'maxItems') !== undefined),
    });
  }
  if (
    readerSchema['uniqueItems'] === true &&
    !writerSchemas.some((s) => s['uniqueItems'] === true)
  ) {
    report(
      'unique-items-added',
      `${capitalize(R)} requires unique items; ${W} allows duplicates`,
      'uniqueItems',
      -1,
    );
  }
  return out;
}

function containsRules({
  context,
  writer,
  writerSchemas,
  reader,
  readerSchema,
}: RuleInput): Incompatibility[] {
  if (!Object.hasOwn(readerSchema, 'contains')) return [];
  const out: Incompatibility[] = [];
  const W = context.writerName;
  const R = context.readerName;
  const wanted = placeAt(reader, 'contains');
  const minimum = numberAt(readerSchema, 'minContains') ?? 1;
  const carriers = writer.parts.filter((_, i) => Object.hasOwn(writerSchemas[i] ?? {}, 'contains'));
  if (minimum > 0) {
    const satisfied = carriers.some((part) => {
      const count = numberAt(asObject(part.schema) ?? {}, 'minContains') ?? 1;
      const theirs = placeAt(part, 'contains');
      return (
        count >= minimum &&
        context.compare(context, conjunctionOf(context.resolve, theirs, [theirs]), wanted)
          .length === 0
      );
    });
    if (!satisfied) {
      out.push(
        incompatibility(
          context,
          carriers.length > 0 ? 'contains-narrowed' : 'contains-added',
          `${capitalize(R)} requires ${minimum === 1 ? 'an item' : `${minimum} items`} matching its "contains" subschema; arrays valid for ${W} need not have one`,
          { location: reader, segments: ['contains'] },
          { location: carriers[0] ?? placeOf(writer), segments: ['contains'] },
        ),
      );
    }
  }
  const maximum = numberAt(readerSchema, 'maxContains');
  if (maximum !== undefined) {
    const bounded = carriers.some((part) => {
      const schema = asObject(part.schema) ?? {};
      return (
        jsonEqual(schema['contains'], readerSchema['contains']) &&
        (numberAt(schema, 'maxContains') ?? Infinity) <= maximum
      );
    });
    if (!bounded) {
      out.push(
        incompatibility(
          context,
          'max-contains-added',
          `${capitalize(R)} allows at most ${maximum} items matching its "contains" subschema; ${W} has no such limit`,
          { location: reader, segments: ['maxContains'] },
          { location: carriers[0] ?? placeOf(writer), segments: ['maxContains'] },
        ),
      );
    }
  }
  return out;
}
