/** Compatibility levels over a history of versions (oldest first). */

import { describe, expect, it } from 'vitest';
import { checkCompatibility, COMPATIBILITY_LEVELS, type CompatibilityLevel } from './index.ts';

const enumOf = (...values: string[]) => ({ type: 'string', enum: values });
const maxLength = (n: number) => ({ type: 'string', maxLength: n });

function codes(level: CompatibilityLevel, newSchema: unknown, history: unknown[]): string[] {
  return checkCompatibility(level, newSchema, history).map((i) => `${i.change} ${i.pointer}`);
}

describe('checkCompatibility', () => {
  it('accepts anything under NONE and for a first version', () => {
    expect(codes('NONE', { type: 'number' }, [{ type: 'string' }])).toEqual([]);
    for (const level of COMPATIBILITY_LEVELS)
      expect(codes(level, { type: 'number' }, [])).toEqual([]);
  });

  it('BACKWARD checks the new schema as reader of the latest version only', () => {
    const history = [enumOf('a', 'b', 'c'), enumOf('a', 'b'), enumOf('a', 'b')];
    const next = enumOf('a', 'b', 'd');
    expect(codes('BACKWARD', next, history)).toEqual([]);
    // Compatible with the latest, not with the first: only the transitive level refuses it.
    const transitive = checkCompatibility('BACKWARD_TRANSITIVE', next, history);
    expect(transitive.map((i) => i.change)).toEqual(['enum-value-removed']);
    expect(transitive[0]?.detail).toBe(
      '"c" is allowed by previous version 1 of 3 but not by the new schema',
    );
  });

  it('FORWARD checks the previous version as reader of the new schema', () => {
    const history = [maxLength(5), maxLength(10), maxLength(10)];
    expect(codes('FORWARD', maxLength(8), history)).toEqual([]);
    expect(codes('FORWARD_TRANSITIVE', maxLength(8), history)).toEqual([
      'max-length-decreased /maxLength',
    ]);
    expect(codes('BACKWARD', maxLength(8), history)).toEqual(['max-length-decreased /maxLength']);
  });

  it('FULL checks both directions, FULL_TRANSITIVE against every version', () => {
    const history = [enumOf('a', 'b', 'c'), enumOf('a', 'b')];
    expect(codes('FULL', enumOf('a', 'b'), history)).toEqual([]);
    expect(codes('FULL', enumOf('a'), history)).toEqual(['enum-value-removed /enum']);
    expect(codes('FULL', enumOf('a', 'b', 'x'), history)).toEqual(['enum-value-removed /enum']);
    expect(
      checkCompatibility('FULL_TRANSITIVE', enumOf('a', 'b'), history).map((i) => i.detail),
    ).toEqual(['"c" is allowed by previous version 1 of 2 but not by the new schema']);
  });

  it('points into the new schema in both directions, also through its $refs', () => {
    const old = { type: 'object', properties: { a: { type: 'string' } } };
    const next = {
      type: 'object',
      $defs: { A: { type: ['string', 'null'] } },
      properties: { a: { $ref: '#/$defs/A' } },
    };
    expect(codes('BACKWARD', next, [old])).toEqual([]);
    expect(codes('FORWARD', next, [old])).toEqual(['type-narrowed /$defs/A/type']);
    const narrower = {
      type: 'object',
      $defs: { A: { type: 'string', maxLength: 2 } },
      properties: { a: { $ref: '#/$defs/A' } },
    };
    expect(codes('BACKWARD', narrower, [old])).toEqual(['max-length-added /$defs/A/maxLength']);
  });

  it('with Portico defaults, adding and removing an optional property is FULL compatible', () => {
    const v1 = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] };
    const v2 = { ...v1, properties: { ...v1.properties, nickname: { type: 'string' } } };
    expect(codes('FULL_TRANSITIVE', v2, [v1])).toEqual([]);
    expect(codes('FULL_TRANSITIVE', v1, [v1, v2])).toEqual([]);
    const strict = checkCompatibility('FULL', v2, [v1], {
      allowOptionalPropertyInOpenModel: false,
    });
    expect(strict.map((i) => `${i.change} ${i.pointer}`)).toEqual([
      'property-added-to-open-content-model /properties/nickname',
    ]);
  });

  it('a transitive level draws every version from one work budget', () => {
    // Comparing these two unions of 200 objects takes most of one check's budget.
    const union = (extra: number) => ({
      anyOf: Array.from({ length: 200 }, (_, i) => ({
        type: 'object',
        properties: { [`p${i}`]: { type: 'string', maxLength: i + extra } },
        required: [`p${i}`],
      })),
    });
    expect(codes('BACKWARD', union(1), [union(0)])).toEqual([]);
    // Against two such versions the budget runs out: the work of one request stays bounded
    // however many versions a subject has (each used to get a budget of its own).
    expect(codes('BACKWARD_TRANSITIVE', union(1), [union(0), union(0)])).toEqual([
      'check-too-complex ',
    ]);
  });

  it('refuses an unknown level', () => {
    expect(() => checkCompatibility('SIDEWAYS' as CompatibilityLevel, {}, [{}])).toThrow(
      RangeError,
    );
  });
});
