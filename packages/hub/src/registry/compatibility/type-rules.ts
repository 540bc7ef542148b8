/** `type`, `enum` and `const`: the reader must accept every type and value the writer allows. */

import { placeOf } from './conjunction.ts';
import { capitalize, incompatibility, type Rule, show } from './check-context.ts';
import { canonicalJson } from '../schema-text.ts';
import { declaredTypes, type JsonType, typeAccepted } from './json-types.ts';
import { enumValues, type SchemaObject } from './keywords.ts';

export const typeRule: Rule = ({
  context,
  writer,
  writerSchemas,
  writerTypes,
  reader,
  readerSchema,
}) => {
  const accepted = declaredTypes(readerSchema);
  if (!accepted) return [];
  const refused = [...writerTypes].filter((t) => !typeAccepted(accepted, t));
  if (refused.length === 0) return [];
  const someStillAccepted =
    refused.length < writerTypes.size || (refused.includes('number') && accepted.has('integer'));
  const declaring = writer.parts[writerSchemas.findIndex((s) => declaredTypes(s))];
  const detail = `${capitalize(context.writerName)} allows ${describeTypes(refused)} values, which ${
    context.readerName
  } refuses (it accepts ${describeTypes([...accepted])})`;
  return [
    incompatibility(
      context,
      someStillAccepted ? 'type-narrowed' : 'type-changed',
      detail,
      { location: reader, segments: ['type'] },
      { location: declaring ?? placeOf(writer), segments: ['type'] },
    ),
  ];
};

export const enumRule: Rule = ({ context, writer, writerSchemas, reader, readerSchema }) => {
  const allowed = enumValues(readerSchema);
  if (!allowed) return [];
  const readerKeyword = Object.hasOwn(readerSchema, 'const') ? 'const' : 'enum';
  const written = writerValues(writerSchemas);
  let writerKeyword = 'enum';
  let declaring = placeOf(writer);
  for (const [i, schema] of writerSchemas.entries()) {
    if (!enumValues(schema)) continue;
    writerKeyword = Object.hasOwn(schema, 'const') ? 'const' : 'enum';
    declaring = writer.parts[i] ?? declaring;
  }
  const readerPlace = { location: reader, segments: [readerKeyword] };
  const writerPlace = { location: declaring, segments: [writerKeyword] };
  if (!written) {
    const detail = `${capitalize(context.readerName)} accepts only ${showValues(allowed)}; ${
      context.writerName
    } has no such restriction`;
    const change = readerKeyword === 'const' ? 'const-added' : 'enum-added';
    return [incompatibility(context, change, detail, readerPlace, writerPlace)];
  }
  const missing = without(written, allowed);
  if (missing.length === 0) return [];
  const change =
    readerKeyword === 'const' && writerKeyword === 'const' ? 'const-changed' : 'enum-value-removed';
  const detail = `${missing.length === 1 ? show(missing[0]) : showValues(missing)} ${
    missing.length === 1 ? 'is' : 'are'
  } allowed by ${context.writerName} but not by ${context.readerName}`;
  return [incompatibility(context, change, detail, readerPlace, writerPlace)];
};

function describeTypes(types: readonly JsonType[]): string {
  return types.map((t) => `"${t}"`).join(', ');
}

/** The only values the writer allows, when it lists them (enum/const in any part). */
export function writerValues(
  writerSchemas: readonly SchemaObject[],
): readonly unknown[] | undefined {
  let written: readonly unknown[] | undefined;
  for (const schema of writerSchemas) {
    const values = enumValues(schema);
    if (values) written = written ? written.filter(inSet(values)) : values;
  }
  return written;
}

/**
 * Enums run to tens of thousands of values within the schema size limit: membership goes
 * through a Set of their canonical JSON texts (equal exactly when jsonEqual holds), as pairwise jsonEqual took seconds on the event loop.
 */
function inSet(values: readonly unknown[]): (value: unknown) => boolean {
  const keys = new Set(values.map(canonicalJson));
  return (value) => keys.has(canonicalJson(value));
}

function without(values: readonly unknown[], removed: readonly unknown[]): unknown[] {
  const kept = inSet(removed);
  return values.filter((v) => !kept(v));
}

/** At most this many values are quoted in a detail (the rest are counted). */
const SHOWN_VALUES = 10;

function showValues(values: readonly unknown[]): string {
  if (values.length <= SHOWN_VALUES) return show(values);
  return `${show(values.slice(0, SHOWN_VALUES)).slice(0, -1)}, … and ${values.length - SHOWN_VALUES} more]`;
}
