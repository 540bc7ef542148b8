/**
 * Compatibility across references to other subjects, over the Confluent-shaped API on a
 * real socket: each version is compared with the referenced versions it names itself. Two
 * versions may `$ref` the same name (even with the same text) and mean different versions
 * of the referenced subject; a breaking change there must not pass unseen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
let base: string;
let token: string;

beforeAll(async () => {
  t = await startTestHub();
  const address = await t.hub.server.listen({ port: 0, host: '127.0.0.1' });
  base = `${address}/v1/registry`;
  token = await t.token('acme', ['schemas:write', 'events:read']);
});
afterAll(() => t.close());

type Incompatibility = { pointer: string; change: string; detail: string };

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/vnd.schemaregistry.v1+json',
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & {
      incompatibilities?: Incompatibility[];
    },
  };
}

const reference = (subject: string, version: number, name = 'address') => [
  { name, subject, version },
];

const register = (subject: string, schema: unknown, references: unknown[] = []) =>
  call('POST', `/subjects/${subject}/versions`, {
    schema: JSON.stringify(schema),
    ...(references.length > 0 ? { references } : {}),
  });

const setLevel = async (subject: string, compatibility: string) =>
  expect((await call('PUT', `/config/${subject}`, { compatibility })).status).toBe(200);

/** Registers `versions` under `subject` one after another, whatever their compatibility. */
async function history(subject: string, versions: unknown[]) {
  await setLevel(subject, 'NONE');
  for (const v of versions) expect((await register(subject, v)).status).toBe(200);
}

const address = (properties: Record<string, unknown>, required: string[] = ['street']) => ({
  type: 'object',
  properties: { street: { type: 'string' }, ...properties },
  required,
});

/** The referencing schema: the same text whatever the address version it means. */
const ORDER = { type: 'object', properties: { ship: { $ref: 'address' } }, required: ['ship'] };
/** The same, slightly reworded: the documents differ, the `$ref` does not. */
const ORDER_REWORDED = { ...ORDER, description: 'an order placed in the shop' };

describe('a change of referenced version is checked like any other change', () => {
  const ADDRESS = 'shop.address';
  beforeAll(() =>
    history(ADDRESS, [
      // 1: the base.
      address({ kind: { enum: ['home', 'work'] } }),
      // 2: a new required property: old data lacks it (breaks BACKWARD).
      address({ kind: { enum: ['home', 'work'] }, zip: { type: 'string' } }, ['street', 'zip']),
      // 3: a new enum value: old readers refuse it (breaks FORWARD).
      address({ kind: { enum: ['home', 'work', 'other'] } }),
      // 4: a new optional property: compatible both ways (Portico's default).
      address({ kind: { enum: ['home', 'work'] }, city: { type: 'string' } }),
    ]),
  );

  const cases = [
    ['BACKWARD', 2, 'required-added'],
    ['BACKWARD_TRANSITIVE', 2, 'required-added'],
    ['FORWARD', 3, 'enum-value-removed'],
    ['FORWARD_TRANSITIVE', 3, 'enum-value-removed'],
    ['FULL', 2, 'required-added'],
    ['FULL', 3, 'enum-value-removed'],
    ['FULL_TRANSITIVE', 2, 'required-added'],
    ['FULL_TRANSITIVE', 3, 'enum-value-removed'],
  ] as const;
  let n = 0;
  for (const [level, to, change] of cases)
    for (const [wording, next] of [
      ['the same text', ORDER],
      ['a slightly different text', ORDER_REWORDED],
    ] as const)
      it(`${level} refuses address v1 → v${to} behind ${wording}`, async () => {
        const subject = `shop.order.placed${++n}`;
        await setLevel(subject, level);
        expect((await register(subject, ORDER, reference(ADDRESS, 1))).status).toBe(200);

        const refused = await register(subject, next, reference(ADDRESS, to));
        expect(refused.status).toBe(409);
        expect(refused.body).toMatchObject({ error_code: 409, compatibility: level });
        expect(refused.body.incompatibilities!.map((i) => i.change)).toContain(change);
        // Inside another subject, the pointer names the version the new schema references.
        expect(refused.body.incompatibilities!.map((i) => i.pointer)).toContainEqual(
          expect.stringMatching(`^portico-registry:${ADDRESS}/versions/${to}#/`),
        );
        expect((await call('GET', `/subjects/${subject}/versions`)).body).toEqual([1]);

        // The compatibility endpoints say the same without registering.
        for (const path of ['versions', 'versions/latest', 'versions/1']) {
          const check = await call('POST', `/compatibility/subjects/${subject}/${path}`, {
            schema: JSON.stringify(next),
            references: reference(ADDRESS, to),
          });
          expect(check).toMatchObject({ status: 200, body: { is_compatible: false } });
        }
      });

  it('accepts a compatible change of referenced version, and the same reference again', async () => {
    const subject = 'shop.order.compatible';
    await setLevel(subject, 'FULL_TRANSITIVE');
    const first = await register(subject, ORDER, reference(ADDRESS, 1));
    expect(first.status).toBe(200);
    const second = await register(subject, ORDER, reference(ADDRESS, 4));
    expect(second).toMatchObject({ status: 200 });
    expect(second.body['id']).not.toBe(first.body['id']);
    const reworded = await register(subject, ORDER_REWORDED, reference(ADDRESS, 4));
    expect(reworded.status).toBe(200);
    // The same schema and references again: its existing id, no new version.
    expect(await register(subject, ORDER, reference(ADDRESS, 1))).toMatchObject({
      status: 200,
      body: { id: first.body['id'] },
    });
    expect((await call('GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2, 3]);
  });
});

describe('transitive levels compare each old version with its own referenced versions', () => {
  const ADDRESS = 'crm.address';
  const SUBJECT = 'crm.order.placed';
  beforeAll(async () => {
    await history(ADDRESS, [
      // 1: open, nothing required beyond the street.
      address({}),
      // 2: zip required (incompatible with 1 both ways round in BACKWARD terms).
      address({ zip: { type: 'string' } }, ['street', 'zip']),
      // 3: as 2 plus an optional city: compatible with 2, not with 1 (BACKWARD).
      address({ zip: { type: 'string' }, city: { type: 'string' } }, ['street', 'zip']),
    ]);
    // The order's versions 1 and 2: the same text, referencing address 1 and 2.
    await setLevel(SUBJECT, 'NONE');
    expect((await register(SUBJECT, ORDER, reference(ADDRESS, 1))).status).toBe(200);
    expect((await register(SUBJECT, ORDER, reference(ADDRESS, 2))).status).toBe(200);
  });

  /** Registering at `level` is refused because of previous version `only` alone. */
  async function expectRefusedByOnly(level: string, addressVersion: number, only: 1 | 2) {
    await setLevel(SUBJECT, level);
    const refused = await register(SUBJECT, ORDER_REWORDED, reference(ADDRESS, addressVersion));
    expect(refused.status).toBe(409);
    const details = JSON.stringify(refused.body.incompatibilities);
    expect(details).toMatch(new RegExp(`previous version ${only} of 2`, 'i'));
    expect(details).not.toMatch(new RegExp(`previous version ${3 - only} of 2`, 'i'));
  }

  it('BACKWARD_TRANSITIVE refuses what only version 1 (address 1) cannot give', async () => {
    await expectRefusedByOnly('BACKWARD_TRANSITIVE', 3, 1);
    // Against the latest alone (address 2) it is compatible.
    await setLevel(SUBJECT, 'BACKWARD');
    const latest = await call('POST', `/compatibility/subjects/${SUBJECT}/versions/latest`, {
      schema: JSON.stringify(ORDER_REWORDED),
      references: reference(ADDRESS, 3),
    });
    expect(latest.body).toMatchObject({ is_compatible: true });
  });

  it('FORWARD_TRANSITIVE refuses what only version 2 (address 2) cannot read', async () => {
    // Back to address 1: version 1 reads it (same address), version 2 requires a zip.
    await expectRefusedByOnly('FORWARD_TRANSITIVE', 1, 2);
    const one = await call('POST', `/compatibility/subjects/${SUBJECT}/versions/1`, {
      schema: JSON.stringify(ORDER_REWORDED),
      references: reference(ADDRESS, 1),
    });
    expect(one.body).toMatchObject({ is_compatible: true });
    expect((await call('GET', `/subjects/${SUBJECT}/versions`)).body).toEqual([1, 2]);
  });
});

describe('which reference a name means', () => {
  it('a name resolved against the schema’s own $id, as validation reads it', async () => {
    expect((await register('geo.point', address({}))).status).toBe(200);
    const route = (description?: string) => ({
      $id: 'https://schemas.example.com/route.json',
      type: 'object',
      properties: { from: { $ref: 'https://schemas.example.com/point.json' } },
      ...(description ? { description } : {}),
    });
    const refs = reference('geo.point', 1, 'point.json');
    expect((await register('geo.route', route(), refs)).status).toBe(200);
    const next = await register('geo.route', route('a route'), refs);
    expect(next).toMatchObject({ status: 200, body: { id: expect.any(Number) } });
  });

  it("a schema's own reference wins over one of its references' references of the same name", async () => {
    // point 2 requires a zip that point 1 does not; area 1 references point 1 as "point".
    await history('geo.spot', [address({}), address({ zip: { type: 'string' } }, ['zip'])]);
    const area = { type: 'object', properties: { corner: { $ref: 'point' } } };
    expect((await register('geo.area', area, reference('geo.spot', 1, 'point'))).status).toBe(200);
    await setLevel('geo.zone', 'FULL');
    const zone = { type: 'object', properties: { center: { $ref: 'point' } } };
    const own = { name: 'point', subject: 'geo.spot', version: 2 };
    expect(
      (await register('geo.zone', zone, [own, { name: 'area', subject: 'geo.area', version: 1 }]))
        .status,
    ).toBe(200);
    // Version 1's "point" is its own (spot 2), as version 2's is: nothing changed.
    expect((await register('geo.zone', { ...zone, title: 'zone' }, [own])).status).toBe(200);
  });
});
