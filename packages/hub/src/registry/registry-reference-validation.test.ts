/**
 * Validation at publish across references to other subjects, over a real socket: each
 * schema in a reference tree reads the referenced versions it names itself, as the
 * compatibility check does, both with the validator compiled at registration and with the
 * one a restarted hub compiles from the stored schemas.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHub, type Hub } from '../app.ts';
import { loadConfig } from '../config/load-config.ts';
import { startTestHub } from '../testing/test-hub.ts';

let hub: Hub;
let dataDir: string;
let base: string;
let authorization: string;
let sequence = 0;

async function listen(h: Hub) {
  hub = h;
  base = await hub.server.listen({ port: 0, host: '127.0.0.1' });
  const token = await hub.devIssuer!.mint({
    tenant: 'acme',
    scopes: ['schemas:write', 'events:read', 'events:publish'],
    ttlSeconds: 600,
  });
  authorization = `Bearer ${token}`;
}

/** A restarted hub on the same data dir: its validators are compiled from stored schemas. */
async function restart() {
  await hub.close();
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    overrides: { dataDir, logLevel: 'silent' },
  });
  await listen(await buildHub(config));
}

beforeAll(async () => {
  const t = await startTestHub();
  dataDir = t.dataDir;
  await listen(t.hub);
});
afterAll(async () => {
  await hub.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown, contentType?: string) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization,
      'content-type': contentType ?? 'application/vnd.schemaregistry.v1+json',
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & {
      errors?: { pointer: string; detail: string }[];
    },
  };
}

type Ref = { name: string; subject: string; version: number };

async function register(subject: string, schema: unknown, references: Ref[] = []) {
  const response = await call('POST', `/v1/registry/subjects/${subject}/versions`, {
    schema: JSON.stringify(schema),
    ...(references.length > 0 ? { references } : {}),
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

const publish = (type: string, data: unknown) =>
  call(
    'POST',
    '/v1/events',
    { specversion: '1.0', id: `e${++sequence}`, source: '/test', type, data },
    'application/cloudevents+json',
  );

/** Publishes each case; returns status and failing pointers per case, for one comparison. */
async function outcomes(type: string, cases: Record<string, unknown>) {
  const out: Record<string, { status: number; pointers?: string[] }> = {};
  for (const [label, data] of Object.entries(cases)) {
    const { status, body } = await publish(type, data);
    out[label] = {
      status,
      ...(status === 202 ? {} : { pointers: body.errors?.map((e) => e.pointer).sort() }),
    };
  }
  return out;
}

const accepted = { status: 202 };
const refused = (...pointers: string[]) => ({ status: 422, pointers: pointers.sort() });

describe('each schema in a reference tree reads the versions it names', () => {
  // geo.spot 1: `n` a string; 2: `n` an integer. geo.area 1 names spot 1 "point"; the zone
  // names spot 2 "point" itself, listed after "area".
  const ZONE = 'geo.zone.set';
  const cases = {
    'own point, integer': { center: { n: 3 } },
    'own point, string': { center: { n: 'text' } },
    "area's point, string": { region: { corner: { n: 'text' } } },
    "area's point, integer": { region: { corner: { n: 3 } } },
  };
  const expected = {
    'own point, integer': accepted,
    'own point, string': refused('/data/center/n'),
    "area's point, string": accepted,
    "area's point, integer": refused('/data/region/corner/n'),
  };

  beforeAll(async () => {
    await call('PUT', '/v1/registry/config/geo.spot', { compatibility: 'NONE' });
    const spot = (n: unknown) => ({ type: 'object', properties: { n }, required: ['n'] });
    await register('geo.spot', spot({ type: 'string' }));
    await register('geo.spot', spot({ type: 'integer' }));
    await register('geo.area', { type: 'object', properties: { corner: { $ref: 'point' } } }, [
      { name: 'point', subject: 'geo.spot', version: 1 },
    ]);
    const zone = {
      type: 'object',
      properties: { region: { $ref: 'area' }, center: { $ref: 'point' } },
    };
    await register(ZONE, zone, [
      { name: 'area', subject: 'geo.area', version: 1 },
      { name: 'point', subject: 'geo.spot', version: 2 },
    ]);
  });

  it('with the validator compiled at registration', async () => {
    expect(await outcomes(ZONE, cases)).toEqual(expected);
  });

  it('with the validator a restarted hub compiles from the stored schemas', async () => {
    await restart();
    expect(await outcomes(ZONE, cases)).toEqual(expected);
  });
});

describe('references without a name collision validate as before', () => {
  // Confluent's convention (the name is the referenced `$id`), a name resolved against the
  // root's `$id`, a reference `$ref`'d by its own `$id` under another name, a referenced
  // schema with an embedded resource relative to its `$id`, and a reference of a reference.
  const ORDER = 'shop.order.valued';
  const cases = {
    valid: { price: { amount: 3, currency: 'EUR' }, tag: { code: 'ab' }, size: { w: 1 } },
    'bad currency': { price: { amount: 3, currency: 'euro' } },
    'bad amount': { price: { amount: 'three', currency: 'EUR' } },
    'bad code': { tag: { code: 7 } },
    'bad size': { size: { w: 'wide' } },
    'all bad': { price: { currency: 1 }, tag: {}, size: { w: -1 } },
  };
  const expected = {
    valid: accepted,
    'bad currency': refused('/data/price/currency'),
    'bad amount': refused('/data/price/amount'),
    'bad code': refused('/data/tag/code'),
    'bad size': refused('/data/size/w'),
    'all bad': refused(
      '/data/price/amount',
      '/data/price/currency',
      '/data/size/w',
      '/data/tag/code',
    ),
  };

  beforeAll(async () => {
    await register('common.money', {
      $id: 'https://schemas.example.com/money.json',
      $defs: { currency: { $id: 'currency.json', type: 'string', pattern: '^[A-Z]{3}$' } },
      type: 'object',
      properties: { amount: { type: 'number' }, currency: { $ref: 'currency.json' } },
      required: ['amount', 'currency'],
    });
    await register('common.code', { type: 'string' });
    await register(
      'common.tag',
      { type: 'object', properties: { code: { $ref: 'code' } }, required: ['code'] },
      [{ name: 'code', subject: 'common.code', version: 1 }],
    );
    await register('common.size', {
      $id: 'https://schemas.example.com/size.json',
      type: 'object',
      properties: { w: { type: 'number', minimum: 0 } },
    });
    await register(
      ORDER,
      {
        $id: 'https://schemas.example.com/order.json',
        type: 'object',
        properties: {
          price: { $ref: 'money.json' },
          tag: { $ref: 'tag' },
          size: { $ref: 'https://schemas.example.com/size.json' },
        },
      },
      [
        { name: 'https://schemas.example.com/money.json', subject: 'common.money', version: 1 },
        { name: 'tag', subject: 'common.tag', version: 1 },
        { name: 'size', subject: 'common.size', version: 1 },
      ],
    );
  });

  it('with the validator compiled at registration', async () => {
    expect(await outcomes(ORDER, cases)).toEqual(expected);
  });

  it('with the validator a restarted hub compiles from the stored schemas', async () => {
    await restart();
    expect(await outcomes(ORDER, cases)).toEqual(expected);
  });
});

describe('two referenced subjects embedding one $id differently', () => {
  // Both embed `https://example.com/address`, meaning different addresses; the shipment
  // embeds a third. ajv has one namespace of ids: the address added last used to answer
  // every `$ref` to it, so a valid event was refused (and an invalid one let through).
  const SHIPMENT = 'ship.parcel.sent';
  const ADDRESS = 'https://example.com/address';
  const holder = (id: string, address: unknown) => ({
    $id: id,
    type: 'object',
    properties: { address: { $ref: ADDRESS } },
    $defs: { address: { $id: ADDRESS, ...(address as object) } },
  });
  const cases = {
    'each its own': { from: { address: { street: 'Main' } }, to: { address: { zip: 1 } }, at: 'x' },
    swapped: { from: { address: { zip: 1 } }, to: { address: { street: 'Main' } }, at: 'x' },
    "shipment's own": { at: 3 },
  };
  const expected = {
    'each its own': accepted,
    swapped: refused('/data/from/address/street', '/data/to/address/zip'),
    "shipment's own": refused('/data/at'),
  };

  beforeAll(async () => {
    const street = { type: 'object', properties: { street: { type: 'string' } } };
    const zip = { type: 'object', properties: { zip: { type: 'integer' } } };
    await register(
      'ship.sender',
      holder('https://example.com/sender', { ...street, required: ['street'] }),
    );
    await register(
      'ship.recipient',
      holder('https://example.com/recipient', { ...zip, required: ['zip'] }),
    );
    await register(
      SHIPMENT,
      {
        type: 'object',
        properties: {
          from: { $ref: 'https://example.com/sender' },
          to: { $ref: 'https://example.com/recipient' },
          at: { $ref: ADDRESS },
        },
        $defs: { at: { $id: ADDRESS, type: 'string' } },
      },
      [
        { name: 'https://example.com/sender', subject: 'ship.sender', version: 1 },
        { name: 'https://example.com/recipient', subject: 'ship.recipient', version: 1 },
      ],
    );
  });

  it('with the validator compiled at registration', async () => {
    expect(await outcomes(SHIPMENT, cases)).toEqual(expected);
  });

  it('with the validator a restarted hub compiles from the stored schemas', async () => {
    await restart();
    expect(await outcomes(SHIPMENT, cases)).toEqual(expected);
  });
});

describe('a subject referencing an earlier version of itself through another subject', () => {
  // team v2 → member v1 → team v1, all three in one tree; team v1 and v2 share their `$id`.
  const TEAM = 'org.team.formed';
  const id = 'https://example.com/team';
  const team1 = { $id: id, type: 'object', properties: { name: { type: 'string' } } };
  const team2 = {
    ...team1,
    properties: { ...team1.properties, lead: { $ref: 'https://example.com/member' } },
  };

  beforeAll(async () => {
    await register(TEAM, team1);
    await register(
      'org.member',
      { $id: 'https://example.com/member', type: 'object', properties: { team: { $ref: id } } },
      [{ name: id, subject: TEAM, version: 1 }],
    );
  });

  it('registers (it used to be 422 "schema with key or id … already exists") and validates', async () => {
    await register(TEAM, team2, [
      { name: 'https://example.com/member', subject: 'org.member', version: 1 },
    ]);
    expect(
      await outcomes(TEAM, {
        valid: { name: 'a', lead: { team: { name: 'b' } } },
        invalid: { name: 1, lead: { team: { name: 2 } } },
      }),
    ).toEqual({ valid: accepted, invalid: refused('/data/name', '/data/lead/team/name') });
  });
});
