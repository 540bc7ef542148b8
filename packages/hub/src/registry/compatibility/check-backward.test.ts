/**
 * One example per kind of change: the code reported and where it points (in the new
 * schema). checkBackward(reader = new, writer = old).
 */

import { describe, expect, it } from 'vitest';
import { checkBackward, type CompatibilityOptions } from './index.ts';

/** "code pointer" for each incompatibility, in order. */
function changes(newSchema: unknown, oldSchema: unknown, options?: CompatibilityOptions): string[] {
  return checkBackward(newSchema, oldSchema, options).map((i) => `${i.change} ${i.pointer}`);
}

const PEER = { allowOptionalPropertyInOpenModel: false };

describe('types', () => {
  it('accepts a widened type, integer read as number, and anything read by {}', () => {
    expect(changes({ type: ['string', 'null'] }, { type: 'string' })).toEqual([]);
    expect(changes({ type: 'number' }, { type: 'integer' })).toEqual([]);
    expect(changes({}, { type: 'object' })).toEqual([]);
    expect(changes(true, { type: 'object' })).toEqual([]);
  });

  it('refuses a narrowed or changed type', () => {
    expect(changes({ type: 'string' }, { type: ['string', 'null'] })).toEqual([
      'type-narrowed /type',
    ]);
    expect(changes({ type: 'integer' }, { type: 'number' })).toEqual(['type-narrowed /type']);
    expect(changes({ type: 'number' }, { type: 'string' })).toEqual(['type-changed /type']);
    expect(changes({ type: 'object' }, {})).toEqual(['type-narrowed /type']);
  });

  it('reports a schema that became false, and accepts anything after false', () => {
    expect(changes(false, { type: 'string' })).toEqual(['schema-false ']);
    expect(changes({ type: 'string' }, false)).toEqual([]);
  });

  it('names both schemas in the detail', () => {
    const [only] = checkBackward({ type: 'number' }, { type: 'string' });
    expect(only?.detail).toBe(
      'The old schema allows "string" values, which the new schema refuses (it accepts "number")',
    );
  });
});

describe('enum and const', () => {
  it('accepts added values and const read as a one-value enum', () => {
    expect(changes({ enum: ['a', 'b', 'c'] }, { enum: ['a', 'b'] })).toEqual([]);
    expect(changes({ enum: ['a', 'b'] }, { const: 'a' })).toEqual([]);
  });

  it('refuses removed values, a new enum and a changed const', () => {
    expect(changes({ enum: ['a'] }, { enum: ['a', 'b'] })).toEqual(['enum-value-removed /enum']);
    expect(changes({ type: 'string', enum: ['a'] }, { type: 'string' })).toEqual([
      'enum-added /enum',
    ]);
    expect(changes({ const: 'b' }, { const: 'a' })).toEqual(['const-changed /const']);
    expect(changes({ const: 'a' }, {})).toEqual(['const-added /const']);
  });

  it('compares values as JSON: object key order does not matter, 1 and "1" differ', () => {
    expect(changes({ enum: [{ b: 2, a: [1] }] }, { enum: [{ a: [1], b: 2 }] })).toEqual([]);
    expect(changes({ enum: ['1', null] }, { enum: [1, null] })).toEqual([
      'enum-value-removed /enum',
    ]);
  });

  it('two enums of 50,000 values, twenty removed: answers at once, quoting ten of them', () => {
    // Pairwise comparison (10⁹ steps here) stalled the event loop for seconds per check.
    const values = Array.from({ length: 50_000 }, (_, i) => ({ code: i }));
    const [only, ...rest] = checkBackward({ enum: values.slice(20) }, { enum: values });
    expect(rest).toEqual([]);
    expect(only?.change).toBe('enum-value-removed');
    expect(only?.detail).toMatch(/^\[\{"code":0\},.*\{"code":9\}, … and 10 more\] are allowed/);
  });
});

describe('strings', () => {
  it('accepts relaxed lengths and a removed pattern or format', () => {
    const old = { type: 'string', minLength: 2, maxLength: 5, pattern: '^a', format: 'email' };
    expect(changes({ type: 'string', minLength: 1, maxLength: 9 }, old)).toEqual([]);
  });

  it('refuses tightened lengths and new or changed pattern, format and content keywords', () => {
    const old = { type: 'string', minLength: 2, maxLength: 5, pattern: '^a', format: 'email' };
    expect(
      changes({ type: 'string', minLength: 3, maxLength: 4, pattern: '^b', format: 'uri' }, old),
    ).toEqual([
      'max-length-decreased /maxLength',
      'min-length-increased /minLength',
      'pattern-changed /pattern',
      'format-changed /format',
    ]);
    expect(
      changes(
        { type: 'string', maxLength: 5, contentEncoding: 'base64', contentMediaType: 'image/png' },
        { type: 'string' },
      ),
    ).toEqual([
      'max-length-added /maxLength',
      'content-encoding-added /contentEncoding',
      'content-media-type-added /contentMediaType',
    ]);
  });

  it('judges listed values (enum/const) by the values themselves', () => {
    expect(
      changes({ type: 'string', maxLength: 3, pattern: '^a' }, { enum: ['a', 'abc'] }),
    ).toEqual([]);
    expect(changes({ type: 'string', maxLength: 2 }, { enum: ['a', 'abc'] })).toEqual([
      'max-length-added /maxLength',
    ]);
  });

  it('ignores string keywords when the old schema never produced strings', () => {
    expect(changes({ type: ['number', 'string'], maxLength: 1 }, { type: 'number' })).toEqual([]);
  });
});

describe('numbers', () => {
  it('compares inclusive, exclusive and draft-04 boolean bounds', () => {
    expect(
      changes(
        { type: 'number', exclusiveMinimum: 0 },
        { type: 'number', minimum: 0, exclusiveMinimum: true },
      ),
    ).toEqual([]);
    expect(changes({ type: 'number', minimum: 1 }, { type: 'number', minimum: 0 })).toEqual([
      'minimum-increased /minimum',
    ]);
    expect(
      changes({ type: 'number', exclusiveMaximum: 10 }, { type: 'number', maximum: 10 }),
    ).toEqual(['exclusive-maximum-decreased /exclusiveMaximum']);
    expect(changes({ type: 'number', maximum: 10 }, { type: 'number' })).toEqual([
      'maximum-added /maximum',
    ]);
  });

  it('accepts a multipleOf that divides the old one, and whole steps for integers', () => {
    expect(changes({ type: 'number', multipleOf: 2 }, { type: 'number', multipleOf: 4 })).toEqual(
      [],
    );
    expect(changes({ type: 'number', multipleOf: 0.5 }, { type: 'integer' })).toEqual([]);
    expect(changes({ type: 'number', multipleOf: 4 }, { type: 'number', multipleOf: 2 })).toEqual([
      'multiple-of-changed /multipleOf',
    ]);
    expect(changes({ type: 'number', multipleOf: 3 }, { type: 'number' })).toEqual([
      'multiple-of-added /multipleOf',
    ]);
  });
});

describe('objects and content models', () => {
  const open = { type: 'object', properties: { a: { type: 'string' } } };
  const closed = { ...open, additionalProperties: false };

  it('points into a property whose schema changed', () => {
    expect(changes({ type: 'object', properties: { a: { type: 'number' } } }, open)).toEqual([
      'type-changed /properties/a/type',
    ]);
  });

  it('refuses a new required property', () => {
    expect(changes({ ...open, required: ['a'] }, open)).toEqual(['required-added /required']);
    expect(changes(open, { ...open, required: ['a'] })).toEqual([]);
  });

  it('adding an optional property to an open model: refused by the peers, allowed by Portico', () => {
    const added = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } };
    expect(changes(added, open, PEER)).toEqual([
      'property-added-to-open-content-model /properties/b',
    ]);
    expect(changes(added, open)).toEqual([]);
    // Still refused when the new property is required: old data may lack it.
    expect(changes({ ...added, required: ['b'] }, open)).toEqual(['required-added /required']);
  });

  it('adding a property to a closed model is safe; removing one from it is not', () => {
    const bigger = { ...closed, properties: { ...closed.properties, b: { type: 'string' } } };
    expect(changes(bigger, closed)).toEqual([]);
    expect(changes(closed, bigger)).toEqual([
      'property-removed-from-closed-content-model /properties/b',
    ]);
  });

  it('checks a property against a partially open model (additionalProperties schema)', () => {
    const partial = { type: 'object', additionalProperties: { type: 'string' } };
    expect(
      changes({ ...partial, properties: { n: { type: 'string', maxLength: 3 } } }, partial),
    ).toEqual(['property-added-not-covered-by-partially-open-content-model /properties/n']);
    expect(changes({ ...partial, properties: { n: { type: 'string' } } }, partial)).toEqual([]);
    expect(changes(partial, { type: 'object', properties: { n: { type: 'number' } } })).toEqual([
      'property-removed-not-covered-by-partially-open-content-model /properties/n',
      'additional-properties-narrowed /additionalProperties',
    ]);
  });

  it('refuses closing an open model', () => {
    expect(changes(closed, open)).toEqual(['additional-properties-removed /additionalProperties']);
  });

  it('matches declared names against patternProperties', () => {
    const byPattern = { type: 'object', patternProperties: { '^x_': { type: 'string' } } };
    expect(
      changes({ ...byPattern, properties: { x_a: { type: 'string' } } }, byPattern, PEER),
    ).toEqual([]);
    expect(
      changes(
        { type: 'object', patternProperties: { '^n_': { type: 'number' } } },
        { type: 'object' },
      ),
    ).toEqual(['pattern-property-added /patternProperties/^n_']);
  });

  it('compares property counts and property names', () => {
    expect(
      changes({ type: 'object', minProperties: 2 }, { type: 'object', required: ['a', 'b'] }),
    ).toEqual([]);
    expect(
      changes({ type: 'object', maxProperties: 1 }, { type: 'object', maxProperties: 3 }),
    ).toEqual(['max-properties-decreased /maxProperties']);
    expect(changes({ type: 'object', maxProperties: 1 }, closed)).toEqual([]);
    expect(
      changes({ type: 'object', propertyNames: { maxLength: 3 } }, { type: 'object' }),
    ).toEqual(['property-names-added /propertyNames']);
    expect(changes({ type: 'object', propertyNames: { maxLength: 3 } }, closed)).toEqual([]);
  });

  it('compares dependentRequired, dependentSchemas and draft-07 dependencies', () => {
    expect(
      changes({ type: 'object', dependentRequired: { card: ['billing'] } }, { type: 'object' }),
    ).toEqual(['dependent-required-added /dependentRequired/card']);
    expect(
      changes(
        { type: 'object', dependencies: { card: ['billing'] } },
        { type: 'object', required: ['billing'] },
      ),
    ).toEqual([]);
    const withSchema = (maxLength: number) => ({
      type: 'object',
      dependentSchemas: { card: { properties: { billing: { type: 'string', maxLength } } } },
    });
    expect(changes(withSchema(10), withSchema(5))).toEqual([]);
    expect(changes(withSchema(5), withSchema(10))).toEqual([
      'dependent-schema-narrowed /dependentSchemas/card',
    ]);
    // A dependency on a property the old closed model never sends cannot break anything.
    expect(changes({ ...closed, dependentRequired: { z: ['a'] } }, closed)).toEqual([]);
  });
});

describe('arrays', () => {
  it('points into narrowed items', () => {
    expect(
      changes(
        { type: 'array', items: { type: 'integer' } },
        { type: 'array', items: { type: 'number' } },
      ),
    ).toEqual(['type-narrowed /items/type']);
  });

  it('compares draft-07 tuples (items array + additionalItems)', () => {
    const tuple = { type: 'array', items: [{ type: 'string' }] };
    expect(
      changes({ type: 'array', items: [{ type: 'string' }, { type: 'number' }] }, tuple),
    ).toEqual(['tuple-item-added /items/1']);
    expect(changes({ ...tuple, additionalItems: false }, tuple)).toEqual([
      'additional-items-removed /additionalItems',
    ]);
    expect(
      changes(tuple, {
        type: 'array',
        items: [{ type: 'string' }, { type: 'number' }],
        additionalItems: false,
      }),
    ).toEqual([]);
  });

  it('compares 2020-12 tuples (prefixItems + items)', () => {
    const closedPair = {
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'number' }],
      items: false,
    };
    expect(
      changes(
        { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'number' } },
        closedPair,
      ),
    ).toEqual([]);
    expect(
      changes(
        { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'boolean' } },
        closedPair,
      ),
    ).toEqual(['tuple-item-removed /items']);
  });

  it('compares counts, uniqueness and contains', () => {
    expect(changes({ type: 'array', minItems: 2 }, { type: 'array', minItems: 1 })).toEqual([
      'min-items-increased /minItems',
    ]);
    expect(
      changes(
        { type: 'array', maxItems: 2 },
        { type: 'array', items: [{}, {}], additionalItems: false },
      ),
    ).toEqual([]);
    expect(changes({ type: 'array', uniqueItems: true }, { type: 'array' })).toEqual([
      'unique-items-added /uniqueItems',
    ]);
    expect(
      changes(
        { type: 'array', contains: { type: 'number' } },
        { type: 'array', contains: { type: 'integer' } },
      ),
    ).toEqual([]);
    expect(
      changes(
        { type: 'array', contains: { type: 'integer' } },
        { type: 'array', contains: { type: 'number' } },
      ),
    ).toEqual(['contains-narrowed /contains']);
  });
});

describe('combined schemas', () => {
  it('accepts a schema changed into a union containing it (nullable)', () => {
    expect(changes({ anyOf: [{ type: 'string' }, { type: 'null' }] }, { type: 'string' })).toEqual(
      [],
    );
    expect(
      changes({ oneOf: [{ type: 'string' }, { type: 'null' }] }, { type: ['string', 'null'] }),
    ).toEqual([]);
  });

  it("reports a union's narrowed subschema by the reasons of the subschema of the same type", () => {
    const nullable = (maxLength?: number) => ({
      anyOf: [{ type: 'string', maxLength }, { type: 'null' }],
    });
    expect(changes(nullable(3), nullable(undefined))).toEqual([
      'max-length-added /anyOf/0/maxLength',
    ]);
  });

  it('refuses a removed subschema and anyOf turned into oneOf', () => {
    expect(
      changes(
        { anyOf: [{ type: 'string' }, { type: 'boolean' }] },
        { anyOf: [{ type: 'string' }, { type: 'number' }] },
      ),
    ).toEqual(['any-of-narrowed /anyOf']);
    expect(
      changes(
        { oneOf: [{ maximum: 1 }, { minimum: 5 }] },
        { anyOf: [{ maximum: 1 }, { minimum: 5 }] },
      ),
    ).toEqual(['combined-type-changed /oneOf']);
    expect(changes({ anyOf: [{ maxLength: 1 }, { minimum: 5 }] }, { maxLength: 3 })).toEqual([
      'any-of-narrowed /anyOf',
    ]);
  });

  it('reads allOf as the conjunction of its subschemas, either side', () => {
    expect(
      changes({ type: 'string', maxLength: 5 }, { allOf: [{ type: 'string' }, { maxLength: 3 }] }),
    ).toEqual([]);
    expect(
      changes({ allOf: [{ type: 'string' }, { maxLength: 3 }] }, { type: 'string', maxLength: 5 }),
    ).toEqual(['max-length-decreased /allOf/1/maxLength']);
  });

  it('compares not contravariantly', () => {
    expect(changes({ not: { type: 'string' } }, { not: { type: ['string', 'number'] } })).toEqual(
      [],
    );
    expect(changes({ not: { type: ['string', 'number'] } }, { not: { type: 'string' } })).toEqual([
      'not-changed /not',
    ]);
    expect(changes({ not: { type: 'string' } }, { type: 'number' })).toEqual([]);
    expect(changes({ not: { type: 'string' } }, {})).toEqual(['not-added /not']);
  });

  it('compares if/then/else branch by branch, and refuses a changed condition', () => {
    const conditional = (
      then: object,
      ifSchema: object = { properties: { kind: { const: 'a' } } },
    ) => ({
      type: 'object',
      if: ifSchema,
      then,
      else: {},
    });
    expect(changes(conditional({ required: [] }), conditional({ required: ['x'] }))).toEqual([]);
    expect(changes(conditional({ required: ['x'] }), conditional({}))).toEqual([
      'required-added /then/required',
    ]);
    expect(
      changes(
        conditional({ required: ['x'] }, { properties: { kind: { const: 'b' } } }),
        conditional({ required: ['x'] }),
      ),
    ).toEqual(['condition-changed /if']);
  });
});

describe('robustness', () => {
  it('reports input that is not a schema instead of throwing', () => {
    expect(changes('string', {})).toEqual(['invalid-schema ']);
    expect(changes({ type: 'object' }, [1, 2])).toEqual(['invalid-schema ']);
  });

  it('reads malformed keywords as absent', () => {
    expect(
      changes({ type: 'string', maxLength: 'ten', required: 'a', items: 3 }, { type: 'string' }),
    ).toEqual([]);
  });

  it('treats identical schemas as compatible whatever they contain', () => {
    const schema = { properties: { a: { $ref: 'https://example.com/a.json' } } };
    expect(changes(schema, structuredClone(schema))).toEqual([]);
  });
});
