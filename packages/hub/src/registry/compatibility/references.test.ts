/** $ref: local pointers and anchors, recursion, other subjects, and never the network. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkBackward } from './index.ts';

function changes(
  newSchema: unknown,
  oldSchema: unknown,
  resolveExternalRef?: (ref: string) => unknown,
): string[] {
  return checkBackward(newSchema, oldSchema, { resolveExternalRef }).map(
    (i) => `${i.change} ${i.pointer}`,
  );
}

/** A linked list: each node may point at the next one. */
const list = (value: object, keyword = '$defs') => ({
  [keyword]: {
    Node: { type: 'object', properties: { value, next: { $ref: `#/${keyword}/Node` } } },
  },
  $ref: `#/${keyword}/Node`,
});

describe('local references', () => {
  it('follows #/$defs and #/definitions, and compares a ref with its inlined form', () => {
    const address = { type: 'object', properties: { street: { type: 'string' } } };
    const inline = { type: 'object', properties: { home: address } };
    expect(
      changes(
        {
          definitions: { A: address },
          type: 'object',
          properties: { home: { $ref: '#/definitions/A' } },
        },
        inline,
      ),
    ).toEqual([]);
    const narrowed = {
      $defs: { A: { ...address, required: ['street'] } },
      type: 'object',
      properties: { home: { $ref: '#/$defs/A' } },
    };
    expect(changes(narrowed, inline)).toEqual(['required-added /$defs/A/required']);
  });

  it('follows anchors: $anchor, draft-07 "$id": "#name", and embedded $id resources', () => {
    const old = { type: 'object', properties: { a: { type: 'string' } } };
    const viaAnchor = {
      $defs: { S: { $anchor: 'S', type: 'string', maxLength: 1 } },
      type: 'object',
      properties: { a: { $ref: '#S' } },
    };
    expect(changes(viaAnchor, old)).toEqual(['max-length-added /$defs/S/maxLength']);
    const viaLegacyId = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { S: { $id: '#S', type: 'string', maxLength: 1 } },
      type: 'object',
      properties: { a: { $ref: '#S' } },
    };
    expect(changes(viaLegacyId, old)).toEqual(['max-length-added /definitions/S/maxLength']);
    const embedded = {
      $id: 'https://portico.example/root.json',
      $defs: { S: { $id: 'string.json', type: 'string', maxLength: 1 } },
      type: 'object',
      properties: { a: { $ref: 'string.json' } },
    };
    expect(changes(embedded, old)).toEqual(['max-length-added /$defs/S/maxLength']);
  });

  it('ignores the siblings of $ref in draft-07 and applies them in 2020-12', () => {
    const withSibling = (schema: string) => ({
      $schema: schema,
      definitions: { S: { type: 'string' } },
      $ref: '#/definitions/S',
      maxLength: 3,
    });
    expect(
      changes(withSibling('http://json-schema.org/draft-07/schema#'), { type: 'string' }),
    ).toEqual([]);
    expect(
      changes(withSibling('https://json-schema.org/draft/2020-12/schema'), { type: 'string' }),
    ).toEqual(['max-length-added /maxLength']);
  });

  it('reports a local ref that points at nothing', () => {
    expect(changes({ properties: { a: { $ref: '#/$defs/Missing' } } }, {})).toEqual([
      'ref-unresolvable /properties/a',
    ]);
  });
});

describe('recursion', () => {
  it('terminates on self-referencing schemas, and still finds a change inside them', () => {
    expect(changes(list({ type: 'string' }), list({ type: 'string' }, 'definitions'))).toEqual([]);
    expect(changes(list({ type: 'string', maxLength: 5 }), list({ type: 'string' }))).toEqual([
      'max-length-added /$defs/Node/properties/value/maxLength',
    ]);
    expect(changes(list({ type: 'string' }), list({ type: 'string', maxLength: 5 }))).toEqual([]);
  });

  it('terminates on a loop of bare references and on a root that refers to itself', () => {
    const loop = {
      $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } },
      properties: { x: { $ref: '#/$defs/a' } },
    };
    expect(changes(loop, { properties: { x: { type: 'string' } } })).toEqual([]);
    expect(changes({ $ref: '#' }, { type: 'string' })).toEqual([]);
    expect(
      changes(
        { type: 'object', properties: { self: { $ref: '#' } } },
        { type: 'object', properties: { self: { $ref: '#' } }, additionalProperties: false },
      ),
    ).toEqual([]);
  });

  it('reports a nesting too deep to walk instead of overflowing the stack', () => {
    let deep: object = { type: 'string' };
    let deeper: object = { type: 'number' };
    for (let i = 0; i < 500; i++) {
      deep = { type: 'object', properties: { x: deep } };
      deeper = { type: 'object', properties: { x: deeper } };
    }
    expect(changes(deep, deeper)).toEqual(['check-too-complex ']);
  });

  // Each of these held the event loop for seconds (5 to 15) before it was counted as work.
  it('counts the work inside a comparison: wide allOf, many patternProperties, unions of unions', () => {
    const parts = (type: string) => ({
      allOf: Array.from({ length: 1500 }, (_, i) => ({ properties: { [`p${i}`]: { type } } })),
    });
    expect(changes(parts('integer'), parts('string'))).toEqual(['check-too-complex ']);

    const names = Array.from({ length: 1000 }, (_, i) => `p${i}`);
    const declared = {
      type: 'object',
      properties: Object.fromEntries(names.map((n) => [n, { type: 'string' }])),
      additionalProperties: false,
    };
    const patterned = {
      type: 'object',
      patternProperties: Object.fromEntries(names.map((n) => [`^${n}$`, { type: 'integer' }])),
      additionalProperties: false,
    };
    expect(changes(patterned, declared)).toEqual(['check-too-complex ']);

    const union = (extra: number) => ({
      anyOf: Array.from({ length: 400 }, (_, i) => ({
        type: 'object',
        properties: { [`p${i}`]: { type: 'string', maxLength: i + extra } },
        required: [`p${i}`],
      })),
    });
    expect(changes(union(1), union(0))).toEqual(['check-too-complex ']);
  });

  it('still compares a large ordinary schema in which every field changed', () => {
    const field = (maxLength: number) => ({ type: 'string', maxLength });
    const group = (maxLength: number) => ({
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 8 }, (_, i) => [
          `f${i}`,
          {
            type: 'object',
            properties: Object.fromEntries(
              Array.from({ length: 8 }, (_, j) => [`g${j}`, field(maxLength)]),
            ),
          },
        ]),
      ),
    });
    // About 450 KB of JSON, 7,000 subschemas.
    const schema = (maxLength: number) => ({
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [`p${i}`, group(maxLength)]),
      ),
    });
    expect(changes(schema(60), schema(50))).toEqual([]);
    expect(changes(schema(40), schema(50))).toHaveLength(6400);
  });
});

describe('references to other subjects', () => {
  const street = { $defs: { Street: { type: 'string', maxLength: 40 } } };
  const usingStreet = { type: 'object', properties: { street: { $ref: 'address#/$defs/Street' } } };

  it('resolves them through resolveExternalRef, once per reference and check', () => {
    const resolve = vi.fn((ref: string) => (ref === 'address' ? street : undefined));
    expect(
      changes(usingStreet, { type: 'object', properties: { street: { type: 'string' } } }, resolve),
    ).toEqual(['max-length-added address#/$defs/Street/maxLength']);
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(resolve).toHaveBeenCalledWith('address');
    expect(
      changes(
        usingStreet,
        { type: 'object', properties: { street: { type: 'string', maxLength: 10 } } },
        resolve,
      ),
    ).toEqual([]);
  });

  it('terminates on a subject that refers to itself', () => {
    const tree = {
      type: 'object',
      properties: { children: { type: 'array', items: { $ref: 'tree' } } },
    };
    const resolve = (ref: string) => (ref === 'tree' ? tree : undefined);
    expect(changes({ $ref: 'tree' }, tree, resolve)).toEqual([]);
  });

  it('reports an unknown subject, or a resolver that throws, as unresolvable', () => {
    expect(changes(usingStreet, { type: 'object' }, () => undefined)).toEqual([
      'ref-unresolvable /properties/street',
    ]);
    const throwing = () => {
      throw new Error('registry unavailable');
    };
    const [only] = checkBackward(usingStreet, { type: 'object' }, { resolveExternalRef: throwing });
    expect(only?.change).toBe('ref-unresolvable');
    expect(only?.detail).toContain('registry unavailable');
  });
});

describe('remote references', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('are never fetched: without a resolver they are reported, on either side', () => {
    const fetch = vi.fn(() => Promise.reject(new Error('no network in a compatibility check')));
    vi.stubGlobal('fetch', fetch);
    const remote = {
      type: 'object',
      properties: { a: { $ref: 'https://schemas.example.com/a.json' } },
    };
    const local = { type: 'object', properties: { a: { type: 'string' } } };
    const asReader = checkBackward(remote, local);
    expect(asReader.map((i) => `${i.change} ${i.pointer}`)).toEqual([
      'ref-unresolvable /properties/a',
    ]);
    expect(asReader[0]?.detail).toContain('remote schemas are never fetched');
    expect(changes(local, remote)).toEqual(['ref-unresolvable /properties/a']);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('go to resolveExternalRef like any other name (a registered reference may be named by URL)', () => {
    const resolve = vi.fn((ref: string) =>
      ref === 'https://schemas.example.com/a.json' ? { type: 'string' } : undefined,
    );
    const remote = {
      type: 'object',
      properties: { a: { $ref: 'https://schemas.example.com/a.json' } },
    };
    expect(
      changes(remote, { type: 'object', properties: { a: { type: 'string' } } }, resolve),
    ).toEqual([]);
  });
});
