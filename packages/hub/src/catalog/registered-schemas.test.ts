/**
 * Registered schemas with their cross-subject references, as the catalog compares them
 * (fake registry): each side of a comparison reads its own referenced versions, loading
 * is tenant-scoped and bounded like the registry's (200), and what cannot be loaded is
 * unresolvable with its reason.
 */
import { describe, expect, it } from 'vitest';
import { pinReferences } from '../registry/compatibility/index.ts';
import {
  RegisteredSchemas,
  type RegisteredSchema,
  type SchemaLookup,
  type SchemaReference,
} from './registered-schemas.ts';
import { schemaChanges } from './schema-diff.ts';

type Versions = Record<string, Record<number, RegisteredSchema>>;

/** A registry of one tenant: every call is recorded, another tenant has nothing. */
function fakeRegistry(tenant: string, subjects: Versions) {
  const calls: string[] = [];
  const lookup: SchemaLookup = async (t, subject, version) => {
    calls.push(`${t}:${subject}/${version}`);
    if (t !== tenant) return undefined;
    const versions = subjects[subject] ?? {};
    const n = version === 'latest' ? Math.max(0, ...Object.keys(versions).map(Number)) : version;
    return versions[n];
  };
  return { lookup, calls };
}

const ref = (name: string, subject: string, version: number): SchemaReference => ({
  name,
  subject,
  version,
});

const ADDRESS_1 = { type: 'object', properties: { country: { enum: ['FR', 'DE'] } } };
const ADDRESS_2 = { type: 'object', properties: { country: { enum: ['FR', 'DE', 'IT'] } } };
const ORDER = { type: 'object', properties: { shipTo: { $ref: 'address' } } };

const registry = () =>
  fakeRegistry('acme', {
    'shop.address': {
      1: { schema: ADDRESS_1, references: [] },
      2: { schema: ADDRESS_2, references: [] },
    },
    'shop.order': {
      1: { schema: ORDER, references: [ref('address', 'shop.address', 1)] },
      2: { schema: ORDER, references: [ref('address', 'shop.address', 2)] },
    },
  });

describe('RegisteredSchemas', () => {
  it('reads each side with its own referenced versions: a break behind a $ref is breaking', async () => {
    const schemas = new RegisteredSchemas('acme', registry().lookup);
    const v1 = (await schemas.load('shop.order', 1))!;
    const v2 = (await schemas.load('shop.order', 2))!;
    // As registered, both versions are the same text: only their references differ.
    expect(v1.schema).toEqual(v2.schema);
    const changes = schemaChanges(v1.compared, v2.compared, 'writes', 'order', {
      resolveExternalRef: schemas.resolve,
    });
    expect(changes.map((c) => [c.severity, c.code, c.pointer])).toEqual([
      [
        'breaking',
        'enum-value-removed',
        'portico-registry:shop.address/versions/2#/properties/country/enum',
      ],
    ]);
    // Read the other way (a consumer), the wider enum is fine.
    expect(
      schemaChanges(v1.compared, v2.compared, 'reads', 'order', {
        resolveExternalRef: schemas.resolve,
      }),
    ).toEqual([]);
  });

  it('asks the registry for the tenant it was made for, each version once', async () => {
    const { lookup, calls } = registry();
    const schemas = new RegisteredSchemas('globex', lookup);
    expect(await schemas.load('shop.order', 1)).toBeUndefined();
    const acme = new RegisteredSchemas('acme', lookup);
    await acme.load('shop.order', 1);
    await acme.load('shop.order', 2);
    await acme.load('shop.order', 1);
    expect(calls).toEqual([
      'globex:shop.order/1',
      'acme:shop.order/1',
      'acme:shop.address/1',
      'acme:shop.order/2',
      'acme:shop.address/2',
      'acme:shop.order/1',
    ]);
  });

  it('loads at most 200 referenced schemas for one schema; the rest are unresolvable, with why', async () => {
    // A chain: link i references link i+1, 250 deep.
    const links: Versions = {};
    for (let i = 0; i < 250; i++)
      links[`link${i}`] = {
        1: {
          schema: { type: 'object', properties: { next: { $ref: `link${i + 1}` } } },
          references: i < 249 ? [ref(`link${i + 1}`, `link${i + 1}`, 1)] : [],
        },
      };
    const { lookup, calls } = fakeRegistry('acme', links);
    const schemas = new RegisteredSchemas('acme', lookup);
    const root = (await schemas.load('link0', 1))!;
    expect(root.compared).toEqual({
      type: 'object',
      properties: { next: { $ref: 'portico-registry:link1/versions/1' } },
    });
    expect(calls).toHaveLength(201);
    expect(schemas.resolve('portico-registry:link200/versions/1')).toEqual({
      type: 'object',
      properties: { next: { $ref: 'portico-registry:link201/versions/1' } },
    });
    expect(() => schemas.resolve('portico-registry:link201/versions/1')).toThrow(
      /more than 200 schemas/,
    );
  });

  it('names a referenced version the registry does not have', async () => {
    const { lookup } = fakeRegistry('acme', {
      'shop.order': { 1: { schema: ORDER, references: [ref('address', 'shop.address', 9)] } },
    });
    const schemas = new RegisteredSchemas('acme', lookup);
    const order = (await schemas.load('shop.order', 1))!;
    const [change] = schemaChanges({ type: 'object' }, order.compared, 'writes', 'order', {
      resolveExternalRef: schemas.resolve,
    });
    expect(change).toMatchObject({
      severity: 'breaking',
      code: 'ref-unresolvable',
      detail: expect.stringMatching(/version 9 of subject "shop.address" is not registered/),
    });
  });
});

describe('pinReferences', () => {
  const target = { name: 'https://schemas.example.com/address.json', key: 'K' };

  it('pins external references by name (fragment kept), and by the referenced schema’s $id', () => {
    const schema = {
      $id: 'https://schemas.example.com/order.json',
      properties: {
        a: { $ref: 'https://schemas.example.com/address.json#/$defs/Street' },
        b: { $ref: 'address.json' }, // relative to the root's $id
        c: { $ref: 'https://schemas.example.com/zip.json' },
        d: { $ref: '#/$defs/local' },
        e: { enum: [{ $ref: 'https://schemas.example.com/address.json' }] }, // data
      },
      $defs: { local: { type: 'string' } },
    };
    const pinned = pinReferences(schema, [
      target,
      { name: 'zip', key: 'Z', schema: { $id: 'https://schemas.example.com/zip.json' } },
    ]) as typeof schema;
    expect(pinned.properties).toEqual({
      a: { $ref: 'K#/$defs/Street' },
      b: { $ref: 'K' },
      c: { $ref: 'Z' },
      d: { $ref: '#/$defs/local' },
      e: { enum: [{ $ref: 'https://schemas.example.com/address.json' }] },
    });
    expect(schema.properties.a.$ref).toBe('https://schemas.example.com/address.json#/$defs/Street');
  });

  it('leaves a reference to an embedded resource alone, and pins nothing when the key scheme is claimed', () => {
    const embedded = {
      properties: { a: { $ref: 'https://schemas.example.com/address.json' } },
      $defs: { x: { $id: 'https://schemas.example.com/address.json', type: 'string' } },
    };
    expect(pinReferences(embedded, [target])).toBe(embedded);
    const claiming = {
      properties: { a: { $ref: 'https://schemas.example.com/address.json' } },
      $defs: { x: { $id: 'portico-registry:shop.address/versions/1' } },
    };
    expect(pinReferences(claiming, [target])).toBe(claiming);
  });
});
