/**
 * Object keywords. Each property name is compared where both schemas say what its value
 * may be: its `properties` entry, matching `patternProperties`, else `additionalProperties`
 * (the "content model": open when absent, closed when false, partially open otherwise).
 */

import {
  because,
  capitalize,
  type CheckContext,
  incompatibility,
  regexFor,
  type Rule,
  type RuleInput,
  show,
  spend,
  writerHome,
} from './check-context.ts';
import { conjunctionOf, extend, placeOf } from './conjunction.ts';
import {
  acceptsEverything,
  asObject,
  numberAt,
  objectAt,
  type SchemaObject,
  stringsAt,
} from './keywords.ts';
import { type Located, placeAt } from './schema-document.ts';
import {
  keywordReporter,
  OBJECT_SIZE,
  reportMaximum,
  reportMinimum,
  tightest,
} from './size-bounds.ts';
import type { Incompatibility } from './types.ts';

export const objectRule: Rule = (input) => {
  const facts: ObjectFacts = {
    readerDeclared: declaredNames(input.context, input.readerParts),
    writerDeclared: declaredNames(input.context, input.writer.parts),
    writerRequired: new Set(input.writerSchemas.flatMap((s) => stringsAt(s, 'required'))),
  };
  return [
    ...propertyRules(input, facts),
    ...patternRules(input),
    ...additionalPropertiesRule(input),
    ...requiredRule(input, facts),
    ...propertyCountRules(input, facts),
    ...propertyNamesRule(input),
    ...dependencyRules(input, facts),
  ];
};

type ObjectFacts = {
  /** Names some part at this place declares: `unevaluatedProperties` does not apply to them. */
  readonly readerDeclared: ReadonlySet<string>;
  readonly writerDeclared: ReadonlySet<string>;
  readonly writerRequired: ReadonlySet<string>;
};

const propertiesOf = (schema: SchemaObject) => objectAt(schema, 'properties') ?? {};
const patternsOf = (schema: SchemaObject) => objectAt(schema, 'patternProperties') ?? {};
const schemaOf = (location: Located) => asObject(location.schema) ?? {};

function declaredNames(context: CheckContext, parts: readonly Located[]): Set<string> {
  const names = parts.flatMap((p) => Object.keys(propertiesOf(schemaOf(p))));
  spend(context, names.length);
  return new Set(names);
}

/** Where undeclared names go: additionalProperties, else (approximately) unevaluatedProperties. */
function fallbackOf(location: Located): Located[] {
  const schema = schemaOf(location);
  if (Object.hasOwn(schema, 'additionalProperties'))
    return [placeAt(location, 'additionalProperties')];
  if (Object.hasOwn(schema, 'unevaluatedProperties'))
    return [placeAt(location, 'unevaluatedProperties')];
  return [];
}

/** The schemas one part applies to the value of property `name`; none means anything. */
function schemasForName(
  context: CheckContext,
  location: Located,
  name: string,
  declaredElsewhere: ReadonlySet<string>,
): Located[] {
  const schema = schemaOf(location);
  const out: Located[] = [];
  const patterns = Object.keys(patternsOf(schema));
  spend(context, 1 + 2 * patterns.length); // a regex test costs about two steps
  if (Object.hasOwn(propertiesOf(schema), name)) out.push(placeAt(location, 'properties', name));
  for (const pattern of patterns) {
    if (regexFor(context, pattern)?.test(name))
      out.push(placeAt(location, 'patternProperties', pattern));
  }
  if (out.length > 0) return out;
  if (Object.hasOwn(schema, 'additionalProperties'))
    return [placeAt(location, 'additionalProperties')];
  if (Object.hasOwn(schema, 'unevaluatedProperties') && !declaredElsewhere.has(name)) {
    return [placeAt(location, 'unevaluatedProperties')];
  }
  return [];
}

function propertyRules(input: RuleInput, facts: ObjectFacts): Incompatibility[] {
  const { context, writer, writerSchemas, reader, readerSchema } = input;
  const W = context.writerName;
  const R = context.readerName;
  const out: Incompatibility[] = [];
  const readerProperties = propertiesOf(readerSchema);
  const names = new Set([
    ...Object.keys(readerProperties),
    ...writerSchemas.flatMap((s) => Object.keys(propertiesOf(s))),
  ]);
  spend(context, names.size);
  for (const name of names) {
    const targets = schemasForName(context, reader, name, facts.readerDeclared);
    if (targets.every((t) => acceptsEverything(t.schema))) continue;
    const sources = writer.parts.flatMap((p) =>
      schemasForName(context, p, name, facts.writerDeclared),
    );
    const written = conjunctionOf(context.resolve, writerHome(writer, 'properties', name), sources);
    if (written.empty) continue; // the writer never sends this property
    const readerDeclares = Object.hasOwn(readerProperties, name);
    const writerDeclares = facts.writerDeclared.has(name);
    const open = written.parts.length === 0 && written.unresolved.length === 0;
    // Portico's deliberate difference (DECISIONS.md): a new optional property is not a break.
    const tolerated = readerDeclares && !writerDeclares && open && !facts.writerRequired.has(name);
    if (tolerated && context.allowOptionalPropertyInOpenModel) continue;
    const nested = targets.flatMap((t) => context.compare(context, written, t));
    if (nested.length === 0) continue;
    if (readerDeclares === writerDeclares) {
      out.push(...nested);
      continue;
    }
    const readerPlace = { location: reader, segments: ['properties', name] };
    const writerPlace = { location: writerHome(writer, 'properties', name) };
    let change: string;
    let detail: string;
    if (readerDeclares && open) {
      change = 'property-added-to-open-content-model';
      detail = `${capitalize(R)} declares property ${show(name)}, which ${W} (an open content model) allows with any value${because(nested)}`;
    } else if (readerDeclares) {
      change = 'property-added-not-covered-by-partially-open-content-model';
      detail = `${capitalize(R)} declares property ${show(name)}, but values ${W} allows for it (through patternProperties or additionalProperties) do not fit${because(nested)}`;
    } else if (targets.length === 1 && targets[0]?.schema === false) {
      change = 'property-removed-from-closed-content-model';
      detail = `${capitalize(R)} no longer declares property ${show(name)} and allows no other properties; ${W} allows ${show(name)}`;
    } else {
      change = 'property-removed-not-covered-by-partially-open-content-model';
      detail = `${capitalize(R)} no longer declares property ${show(name)}, and its patternProperties or additionalProperties refuse values ${W} allows for it${because(nested)}`;
    }
    out.push(incompatibility(context, change, detail, readerPlace, writerPlace));
  }
  return out;
}

function patternRules({
  context,
  writer,
  writerSchemas,
  reader,
  readerSchema,
}: RuleInput): Incompatibility[] {
  const out: Incompatibility[] = [];
  const readerPatterns = patternsOf(readerSchema);
  const patterns = new Set([
    ...Object.keys(readerPatterns),
    ...writerSchemas.flatMap((s) => Object.keys(patternsOf(s))),
  ]);
  spend(context, patterns.size * (1 + writer.parts.length));
  // Distinct patterns are assumed not to overlap: regex inclusion is undecidable in general.
  for (const pattern of patterns) {
    const readerDeclares = Object.hasOwn(readerPatterns, pattern);
    const targets = readerDeclares
      ? [placeAt(reader, 'patternProperties', pattern)]
      : fallbackOf(reader);
    if (targets.every((t) => acceptsEverything(t.schema))) continue;
    const sources = writer.parts.flatMap((p) =>
      Object.hasOwn(patternsOf(schemaOf(p)), pattern)
        ? [placeAt(p, 'patternProperties', pattern)]
        : fallbackOf(p),
    );
    const written = conjunctionOf(
      context.resolve,
      writerHome(writer, 'patternProperties', pattern),
      sources,
    );
    if (written.empty) continue;
    const nested = targets.flatMap((t) => context.compare(context, written, t));
    if (nested.length === 0) continue;
    const writerDeclares = writer.parts.some((p) =>
      Object.hasOwn(patternsOf(schemaOf(p)), pattern),
    );
    if (readerDeclares === writerDeclares) {
      out.push(...nested);
      continue;
    }
    const detail = readerDeclares
      ? `${capitalize(context.readerName)} adds patternProperties ${show(pattern)}, and values ${context.writerName} allows for such names do not fit${because(nested)}`
      : `${capitalize(context.readerName)} drops patternProperties ${show(pattern)}, and its additionalProperties refuse values ${context.writerName} allows for such names${because(nested)}`;
    out.push(
      incompatibility(
        context,
        readerDeclares ? 'pattern-property-added' : 'pattern-property-removed',
        detail,
        { location: reader, segments: ['patternProperties', pattern] },
        { location: writerHome(writer, 'patternProperties', pattern) },
      ),
    );
  }
  return out;
}

function additionalPropertiesRule({ context, writer, reader }: RuleInput): Incompatibility[] {
  const [target] = fallbackOf(reader);
  if (!target || acceptsEverything(target.schema)) return [];
  const sources = writer.parts.flatMap(fallbackOf);
  const written = conjunctionOf(
    context.resolve,
    writerHome(writer, 'additionalProperties'),
    sources,
  );
  if (written.empty) return [];
  const nested = context.compare(context, written, target);
  if (nested.length === 0) return [];
  const keyword = target.pointer.slice(target.pointer.lastIndexOf('/') + 1);
  const closed = target.schema === false;
  const detail = closed
    ? `${capitalize(context.readerName)} allows no properties beyond those it declares (${keyword}: false); ${context.writerName} allows others`
    : `Properties ${context.writerName} allows beyond those it declares are not all accepted by ${context.readerName}'s ${keyword}${because(nested)}`;
  return [
    incompatibility(
      context,
      closed ? 'additional-properties-removed' : 'additional-properties-narrowed',
      detail,
      { location: reader, segments: [keyword] },
      { location: writerHome(writer, keyword) },
    ),
  ];
}

function requiredRule(
  { context, writer, reader, readerSchema }: RuleInput,
  facts: ObjectFacts,
): Incompatibility[] {
  const missing = new Set(
    stringsAt(readerSchema, 'required').filter((n) => !facts.writerRequired.has(n)),
  );
  return [...missing].map((name) =>
    incompatibility(
      context,
      'required-added',
      `${capitalize(context.readerName)} requires property ${show(name)}; objects valid for ${context.writerName} may lack it`,
      { location: reader, segments: ['required'] },
      { location: writerHome(writer, 'required') },
    ),
  );
}

function propertyCountRules(input: RuleInput, facts: ObjectFacts): Incompatibility[] {
  const { writerSchemas, readerSchema } = input;
  const out: Incompatibility[] = [];
  const report = keywordReporter(input, out);
  const minimum = numberAt(readerSchema, 'minProperties');
  if (minimum !== undefined && minimum > 0) {
    const [declared, at] = tightest(writerSchemas, 'minProperties', Math.max);
    reportMinimum(report, input, 'minProperties', OBJECT_SIZE, {
      required: minimum,
      declared,
      // Required properties guarantee a count of their own.
      guaranteed: Math.max(declared ?? 0, facts.writerRequired.size),
      at,
    });
  }
  const maximum = numberAt(readerSchema, 'maxProperties');
  if (maximum !== undefined) {
    const limits = writerSchemas.map((s) => numberAt(s, 'maxProperties') ?? Infinity);
    // A closed content model without patterns bounds the count by its declared properties.
    for (const s of writerSchemas) {
      if (s['additionalProperties'] === false && Object.keys(patternsOf(s)).length === 0)
        limits.push(Object.keys(propertiesOf(s)).length);
    }
    reportMaximum(report, input, 'maxProperties', OBJECT_SIZE, {
      allowed: maximum,
      written: Math.min(Infinity, ...limits),
      at: writerSchemas.findIndex((s) => numberAt(s, 'maxProperties') !== undefined),
    });
  }
  return out;
}

/** Property names are strings: this stands for "whatever names the writer allows". */
const ANY_NAME = Object.freeze({ type: 'string' });

function propertyNamesRule({
  context,
  writer,
  writerSchemas,
  reader,
  readerSchema,
}: RuleInput): Incompatibility[] {
  if (!Object.hasOwn(readerSchema, 'propertyNames')) return [];
  const target = placeAt(reader, 'propertyNames');
  if (acceptsEverything(target.schema)) return [];
  const carriers = writer.parts.filter((p) => Object.hasOwn(schemaOf(p), 'propertyNames'));
  const home = writerHome(writer, 'propertyNames');
  const names = { ...home, schema: ANY_NAME };
  let nested: Incompatibility[];
  const closed = writerSchemas.find(
    (s) => s['additionalProperties'] === false && Object.keys(patternsOf(s)).length === 0,
  );
  if (carriers.length === 0 && closed) {
    // A closed writer sends only the names it declares: check each of them.
    nested = Object.keys(propertiesOf(closed)).flatMap((name) =>
      context.compare(
        context,
        conjunctionOf(context.resolve, home, [
          { ...home, schema: { type: 'string', const: name } },
        ]),
        target,
      ),
    );
  } else {
    const written = conjunctionOf(context.resolve, home, [
      ...carriers.map((p) => placeAt(p, 'propertyNames')),
      names,
    ]);
    nested = context.compare(context, written, target);
  }
  if (nested.length === 0) return [];
  return [
    incompatibility(
      context,
      carriers.length > 0 ? 'property-names-narrowed' : 'property-names-added',
      `${capitalize(context.readerName)} restricts property names (propertyNames) more than ${context.writerName}${because(nested)}`,
      { location: reader, segments: ['propertyNames'] },
      { location: carriers[0] ?? placeOf(writer), segments: ['propertyNames'] },
    ),
  ];
}

function dependencyRules(input: RuleInput, facts: ObjectFacts): Incompatibility[] {
  const { context, writer, writerSchemas, reader, readerSchema } = input;
  const out: Incompatibility[] = [];
  const sends = (name: string) =>
    !conjunctionOf(
      context.resolve,
      writer.home,
      writer.parts.flatMap((p) => schemasForName(context, p, name, facts.writerDeclared)),
    ).empty;
  for (const keyword of ['dependencies', 'dependentRequired', 'dependentSchemas'] as const) {
    const map = objectAt(readerSchema, keyword) ?? {};
    for (const [name, value] of Object.entries(map)) {
      if (!sends(name)) continue; // never present in the writer's objects: nothing to depend on it
      const readerPlace = { location: reader, segments: [keyword, name] };
      const writerPlace = { location: writerHome(writer, keyword, name) };
      if (Array.isArray(value)) {
        if (keyword === 'dependentSchemas') continue;
        const guaranteed = new Set(facts.writerRequired);
        for (const s of writerSchemas) {
          for (const k of ['dependencies', 'dependentRequired']) {
            const theirs = objectAt(s, k)?.[name];
            if (Array.isArray(theirs))
              for (const n of theirs) if (typeof n === 'string') guaranteed.add(n);
          }
        }
        const missing = value.filter(
          (n): n is string => typeof n === 'string' && !guaranteed.has(n),
        );
        if (missing.length === 0) continue;
        const detail = `When ${show(name)} is present, ${context.readerName} also requires ${missing.map((n) => show(n)).join(', ')}; ${context.writerName} does not`;
        out.push(
          incompatibility(context, 'dependent-required-added', detail, readerPlace, writerPlace),
        );
      } else {
        if (keyword === 'dependentRequired') continue;
        const target = placeAt(reader, keyword, name);
        if (acceptsEverything(target.schema)) continue;
        const carriers = writer.parts.flatMap((p) =>
          (['dependencies', 'dependentSchemas'] as const)
            .filter((k) => {
              const v = objectAt(schemaOf(p), k)?.[name];
              return v !== undefined && !Array.isArray(v);
            })
            .map((k) => placeAt(p, k, name)),
        );
        const nested = context.compare(context, extend(context.resolve, writer, carriers), target);
        if (nested.length === 0) continue;
        const detail = `When ${show(name)} is present, ${context.readerName} applies a dependent schema that objects valid for ${context.writerName} do not all satisfy${because(nested)}`;
        out.push(
          incompatibility(
            context,
            carriers.length > 0 ? 'dependent-schema-narrowed' : 'dependent-schema-added',
            detail,
            readerPlace,
            writerPlace,
          ),
        );
      }
    }
  }
  return out;
}
