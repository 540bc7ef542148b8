/**
 * Publishing apps whose event schemas `$ref` other registry subjects (the registry's
 * `references`), on a real hub: the comparisons read each contract with its own referenced
 * versions, so a breaking change hidden behind a cross-subject `$ref` is refused, a
 * compatible one passes without warnings, and a reference nobody can resolve is breaking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import type { AppManifest } from './manifest-schema.ts';

// Response bodies are walked freely in assertions; their shapes are asserted, not typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let t: TestHub;

beforeAll(async () => {
  t = await startTestHub();
}, 60_000);

afterAll(async () => {
  await t?.close();
});

async function call(method: 'PUT' | 'POST', url: string, body: unknown) {
  const res = await t.hub.server.inject({
    method,
    url,
    headers: {
      ...(await t.auth('acme', ['schemas:write', 'events:read'])),
      'content-type': 'application/json',
    },
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as Json };
}

async function register(subject: string, schema: unknown, references: unknown[] = []) {
  const res = await call('POST', `/v1/registry/subjects/${subject}/versions`, {
    schema: JSON.stringify(schema),
    references,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const ADDRESS_ID = 'https://schemas.example.com/address.json';
const address = (countries: string[], more: Record<string, unknown> = {}) => ({
  $id: ADDRESS_ID,
  type: 'object',
  properties: { country: { enum: countries }, ...more },
});
const order = (more: Record<string, unknown> = {}) => ({
  type: 'object',
  required: ['shipTo'],
  properties: { shipTo: { $ref: ADDRESS_ID }, ...more },
});
const addressRef = (version: number) => [{ name: ADDRESS_ID, subject: 'shop.address', version }];

const shop = (version: number): AppManifest => ({
  name: 'shop',
  owner: { team: 'commerce' },
  domain: 'shop',
  events: {
    publishes: [{ type: 'shop.order.placed', schemaRef: `shop.order.placed/versions/${version}` }],
  },
});

const codes = (body: Json) =>
  (body.changes as Json[]).map((c) => `${c.severity} ${c.code} ${c.pointer ?? ''}`.trim());

describe('cross-subject references in published event schemas', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    await register('shop.address', address(['FR', 'DE']));
    // Compatible for readers of v1: an optional property in the open model.
    await register('shop.address', address(['FR', 'DE'], { zip: { type: 'string' } }));
    // A country old readers do not know: fine for the registry (BACKWARD), not for them.
    await register('shop.address', address(['FR', 'DE', 'IT'], { zip: { type: 'string' } }));
    await register('shop.order.placed', order(), addressRef(1));
    await register('shop.order.placed', order({ note: { type: 'string' } }), addressRef(2));
    // The same text as version 2: only the referenced address version changes.
    await register('shop.order.placed', order({ note: { type: 'string' } }), addressRef(3));
    expect((await call('PUT', '/v1/catalog/apps/shop', shop(1))).status).toBe(201);
  });

  it('passes a compatible change across references without warnings', async () => {
    const res = await call('PUT', '/v1/catalog/apps/shop?dryRun=true', shop(2));
    expect(res.status).toBe(200);
    expect(res.body.report.summary).toEqual({ breaking: 0, warning: 0, info: 0 });
    expect((await call('PUT', '/v1/catalog/apps/shop', shop(2))).status).toBe(200);
  });

  it('refuses a breaking change hidden behind a cross-subject $ref, for the app and its consumers', async () => {
    // A consumer that declares the contract it reads: version 2 (without "IT").
    const desk: AppManifest = {
      name: 'desk',
      owner: { team: 'support' },
      domain: 'desk',
      events: {
        consumes: [{ type: 'shop.order.placed', schemaRef: 'shop.order.placed/versions/2' }],
      },
    };
    expect((await call('PUT', '/v1/catalog/apps/desk', desk)).status).toBe(201);

    const res = await call('PUT', '/v1/catalog/apps/shop', shop(3));
    expect(res.status).toBe(409);
    expect(codes(res.body)).toEqual([
      'breaking enum-value-removed portico-registry:shop.address/versions/3#/properties/country/enum',
      // Pointing into the consumer's schema: the reader is the one compared to.
      'breaking consumer-cannot-read/enum-value-removed portico-registry:shop.address/versions/2#/properties/country/enum',
    ]);
    const forced = await call('PUT', '/v1/catalog/apps/shop?force=true', shop(3));
    expect(forced.status).toBe(200);
    expect(forced.body.forced).toBe(true);
  });

  it('treats a reference nobody can resolve as breaking (publish with ?force=true to accept it)', async () => {
    const legacy = (more: Record<string, unknown> = {}): AppManifest => ({
      name: 'legacy',
      owner: { team: 'ops' },
      domain: 'legacy',
      events: {
        publishes: [
          {
            type: 'legacy.job.done',
            schema: {
              type: 'object',
              properties: { result: { $ref: 'https://schemas.example.com/result.json' }, ...more },
            },
          },
        ],
      },
    });
    expect((await call('PUT', '/v1/catalog/apps/legacy', legacy())).status).toBe(201);
    const next = legacy({ at: { type: 'string' } });
    const res = await call('PUT', '/v1/catalog/apps/legacy', next);
    expect(res.status).toBe(409);
    // Once for the old schema, once for the new one (the checker names each).
    expect(new Set(codes(res.body))).toEqual(
      new Set(['breaking ref-unresolvable /properties/result']),
    );
    expect(res.body.changes[0].detail).toMatch(/remote schemas are never fetched/);
    const forced = await call('PUT', '/v1/catalog/apps/legacy?force=true', next);
    expect(forced.status).toBe(200);
    expect(forced.body.forced).toBe(true);
  });
});
