/**
 * The registry's rules through its HTTP API: transitive levels across several versions,
 * references (other subjects, local, never remote), recursion, deletes, tenant isolation
 * and ugly input, which must always be a 4xx problem+json.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
let acme: { authorization: string };

beforeAll(async () => {
  t = await startTestHub();
  acme = await t.auth('acme', ['schemas:write', 'events:read']);
});
afterAll(() => t.close());

async function call(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = acme,
) {
  const response = await t.hub.server.inject({
    method,
    url: `/v1/registry${url}`,
    headers: { ...headers, 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body !== undefined
      ? { payload: typeof body === 'string' ? body : JSON.stringify(body) }
      : {}),
  });
  return {
    status: response.statusCode,
    type: response.headers['content-type'],
    body: response.json() as Record<string, unknown> & { incompatibilities?: unknown[] },
  };
}

const register = (subject: string, schema: unknown, extra: Record<string, unknown> = {}) =>
  call('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(schema), ...extra });

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties,
  required,
});

describe('compatibility levels across versions', () => {
  // v1 and v2 are incompatible (registered under NONE); v3 only differs from v2 by an
  // optional property: compatible with the latest, not with version 1.
  const v1 = obj({ x: { type: 'integer' } }, ['x']);
  const v2 = obj({ x: { type: 'string' } }, ['x']);
  const v3 = obj({ x: { type: 'string' }, y: { type: 'boolean' } }, ['x']);

  async function history(subject: string) {
    await call('PUT', `/config/${subject}`, { compatibility: 'NONE' });
    expect((await register(subject, v1)).status).toBe(200);
    expect((await register(subject, v2)).status).toBe(200);
  }

  it('BACKWARD_TRANSITIVE refuses what BACKWARD accepts, naming the old version', async () => {
    await history('inv.stock.counted');
    await call('PUT', '/config/inv.stock.counted', { compatibility: 'BACKWARD_TRANSITIVE' });
    const refused = await register('inv.stock.counted', v3);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ compatibility: 'BACKWARD_TRANSITIVE', error_code: 409 });
    expect(JSON.stringify(refused.body.incompatibilities)).toMatch(/previous version 1 of 2/i);
    // Checking without registering says the same, and against version 2 alone it is fine.
    const all = await call('POST', '/compatibility/subjects/inv.stock.counted/versions', {
      schema: JSON.stringify(v3),
    });
    expect(all.body).toMatchObject({ is_compatible: false });
    const two = await call('POST', '/compatibility/subjects/inv.stock.counted/versions/2', {
      schema: JSON.stringify(v3),
    });
    expect(two.body).toMatchObject({ is_compatible: true });

    await call('PUT', '/config/inv.stock.counted', { compatibility: 'BACKWARD' });
    expect(await register('inv.stock.counted', v3)).toMatchObject({ status: 200 });
    expect((await call('GET', '/subjects/inv.stock.counted/versions')).body).toEqual([1, 2, 3]);
  });

  it('FORWARD_TRANSITIVE and FULL_TRANSITIVE check every version too', async () => {
    await history('inv.stock.moved');
    // Forward: old readers must read new data. Dropping the optional `y` of v3 later is
    // fine for v2's readers; a new type for `x` breaks version 1's.
    for (const level of ['FORWARD_TRANSITIVE', 'FULL_TRANSITIVE']) {
      await call('PUT', '/config/inv.stock.moved', { compatibility: level });
      const result = await call('POST', '/compatibility/subjects/inv.stock.moved/versions', {
        schema: JSON.stringify(v2),
      });
      expect(result.body, level).toMatchObject({ is_compatible: false, compatibility: level });
    }
    await call('PUT', '/config/inv.stock.moved', { compatibility: 'FULL' });
    const full = await call('POST', '/compatibility/subjects/inv.stock.moved/versions', {
      schema: JSON.stringify(v2),
    });
    expect(full.body).toMatchObject({ is_compatible: true });
  });

  it('transitive levels hold over four versions registered one after another', async () => {
    const subject = 'inv.item.added';
    await call('PUT', `/config/${subject}`, { compatibility: 'FULL_TRANSITIVE' });
    const versions = [
      obj({ sku: { type: 'string' } }, ['sku']),
      obj({ sku: { type: 'string' }, qty: { type: 'integer' } }, ['sku']),
      obj({ sku: { type: 'string' }, qty: { type: 'integer' }, note: { type: 'string' } }, ['sku']),
      obj({ sku: { type: 'string', maxLength: 10 } }, ['sku']),
    ];
    for (const schema of versions.slice(0, 3))
      expect((await register(subject, schema)).status).toBe(200);
    // Narrowing `sku` breaks version 1..3 data for the new reader.
    const refused = await register(subject, versions[3]);
    expect(refused.status).toBe(409);
    expect(refused.body.incompatibilities!.length).toBeGreaterThanOrEqual(3);
  });
});

describe('references', () => {
  it('resolves local $defs and references to other subjects; refuses unknown ones', async () => {
    const money = {
      $id: 'https://schemas.example.com/money.json',
      ...obj({ amount: { type: 'number' }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } }, [
        'amount',
        'currency',
      ]),
    };
    expect((await register('common.money', money)).status).toBe(200);
    const order = {
      $defs: {
        line: obj({ price: { $ref: 'https://schemas.example.com/money.json' } }, ['price']),
      },
      ...obj({ lines: { type: 'array', items: { $ref: '#/$defs/line' } } }),
    };
    const refs = [
      { name: 'https://schemas.example.com/money.json', subject: 'common.money', version: 1 },
    ];
    const placed = await register('shop.order.placed', order, { references: refs });
    expect(placed.status).toBe(200);
    expect((await call('GET', '/subjects/common.money/versions/1/referencedby')).body).toEqual([
      placed.body['id'],
    ]);
    // A reference to a version that does not exist, or a $ref nobody declared: 422.
    const missing = await register('shop.order.paid', order, {
      references: [{ ...refs[0], version: 7 }],
    });
    expect(missing).toMatchObject({
      status: 422,
      body: { error_code: 42201, errors: [{ pointer: '/references/0' }] },
    });
    const undeclared = await register('shop.order.paid', order);
    expect(undeclared.status).toBe(422);
    expect(undeclared.body.detail).toMatch(/money\.json.*cannot be resolved/);
  });

  it('a referenced version cannot be deleted while a live version uses it', async () => {
    const deleting = await call('DELETE', '/subjects/common.money/versions/1');
    expect(deleting).toMatchObject({ status: 422, body: { error_code: 42206 } });
    expect(deleting.body.detail).toMatch(/shop\.order\.placed/);
  });

  it('never fetches a remote $ref (absolute, or relative to a remote $id)', async () => {
    let hits = 0;
    const bait: Server = createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end('{"type":"string"}');
    });
    await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(bait.address() as AddressInfo).port}`;
    try {
      const absolute = await register('sec.remote.absolute', obj({ a: { $ref: `${url}/a.json` } }));
      expect(absolute.status).toBe(422);
      expect(absolute.body.detail).toMatch(/never fetched/);
      const relative = await register('sec.remote.relative', {
        $id: `${url}/root.json`,
        ...obj({ a: { $ref: 'other.json' } }),
      });
      expect(relative.status).toBe(422);
      const check = await call('POST', '/compatibility/subjects/inv.item.added/versions/latest', {
        schema: JSON.stringify(obj({ sku: { $ref: `${url}/sku.json` } })),
      });
      expect(check.status).toBe(422);
      expect(hits).toBe(0);
    } finally {
      await new Promise((resolve) => bait.close(resolve));
    }
  });
});

describe('recursive schemas', () => {
  const tree = (leaf: unknown) => ({
    $defs: {
      node: obj({ value: leaf, children: { type: 'array', items: { $ref: '#/$defs/node' } } }),
    },
    $ref: '#/$defs/node',
  });

  it('register, check compatibility and validate without looping', async () => {
    expect((await register('org.tree.changed', tree({ type: 'integer' }))).status).toBe(200);
    expect((await register('org.tree.changed', tree({ type: 'number' }))).status).toBe(200);
    const narrowed = await register('org.tree.changed', tree({ type: 'integer', minimum: 0 }));
    expect(narrowed.status).toBe(409);
    // Root recursion and mutual recursion.
    const root = { type: 'object', properties: { next: { $ref: '#' } } };
    expect((await register('org.list.linked', root)).status).toBe(200);
    const mutual = {
      $defs: {
        a: obj({ b: { $ref: '#/$defs/b' } }),
        b: obj({ a: { $ref: '#/$defs/a' } }),
      },
      $ref: '#/$defs/a',
    };
    expect((await register('org.pair.linked', mutual)).status).toBe(200);
    expect((await register('org.pair.linked', { ...mutual, description: 'v2' })).status).toBe(200);
  });
});

describe('deletes', () => {
  it('soft delete hides versions; numbers are never reused; permanent needs soft first', async () => {
    const s = 'tmp.thing.made';
    await register(s, obj({ a: { type: 'string' } }));
    await register(s, obj({ a: { type: 'string' }, b: { type: 'string' } }));
    expect(await call('DELETE', `/subjects/${s}/versions/2?permanent=true`)).toMatchObject({
      status: 409,
    });
    expect((await call('DELETE', `/subjects/${s}/versions/2`)).body).toBe(2);
    expect((await call('GET', `/subjects/${s}/versions`)).body).toEqual([1]);
    expect((await call('GET', `/subjects/${s}/versions?deleted=true`)).body).toEqual([1, 2]);
    await register(s, obj({ a: { type: 'string' }, c: { type: 'string' } }));
    expect((await call('GET', `/subjects/${s}/versions`)).body).toEqual([1, 3]);
    expect((await call('DELETE', `/subjects/${s}`)).body).toEqual([1, 3]);
    expect(await call('GET', `/subjects/${s}/versions`)).toMatchObject({ status: 404 });
    expect((await call('DELETE', `/subjects/${s}?permanent=true`)).body).toEqual([1, 2, 3]);
    expect((await call('GET', '/subjects?deleted=true')).body).not.toContain(s);
  });

  it('a subject whose versions reference each other is deleted as a whole', async () => {
    const s = 'tmp.chain.made';
    const name = 'https://schemas.example.com/chain.json';
    await register(s, { $id: name, type: 'string' });
    const v2 = await register(
      s,
      { anyOf: [{ $ref: name }, { type: 'integer' }] },
      { references: [{ name, subject: s, version: 1 }] },
    );
    expect(v2.status).toBe(200);
    expect(await call('DELETE', `/subjects/${s}`)).toMatchObject({ status: 200, body: [1, 2] });
    expect(await call('DELETE', `/subjects/${s}?permanent=true`)).toMatchObject({
      status: 200,
      body: [1, 2],
    });
  });

  it('a version a soft-deleted version references cannot be removed, so its number never means another schema', async () => {
    const name = 'https://schemas.example.com/code.json';
    const code = 'tmp.code.made';
    const user = 'tmp.code.used';
    const refs = [{ name, subject: code, version: 1 }];
    await register(code, { $id: name, type: 'string' });
    const first = await register(user, { $ref: name }, { references: refs });
    expect(first.status).toBe(200);
    // The user is soft deleted: its schema (and id) stay stored, still naming code v1.
    expect((await call('DELETE', `/subjects/${user}`)).status).toBe(200);
    expect((await call('DELETE', `/subjects/${code}`)).status).toBe(200);
    const removing = await call('DELETE', `/subjects/${code}?permanent=true`);
    expect(removing).toMatchObject({ status: 422, body: { error_code: 42206 } });
    expect(removing.body.detail).toMatch(/"tmp\.code\.used" version 1 \(soft deleted\)/);
    expect((await call('DELETE', `/subjects/${code}/versions/1?permanent=true`)).status).toBe(422);
    // Otherwise code v1 could be registered again as another schema, and registering the
    // user's schema again would give back the same id with another meaning.
    expect((await call('GET', `/subjects/${code}/versions/1?deleted=true`)).status).toBe(200);
    // Removed in order, both go.
    expect((await call('DELETE', `/subjects/${user}?permanent=true`)).status).toBe(200);
    expect((await call('DELETE', `/subjects/${code}?permanent=true`)).status).toBe(200);
    expect(await call('GET', `/schemas/ids/${first.body['id']}`)).toMatchObject({ status: 404 });
  });
});

describe('tenant isolation', () => {
  it("tenant B gets 404 for A's subjects, versions, ids and config, and cannot delete them", async () => {
    const { body } = await register('fin.invoice.sent', obj({ n: { type: 'integer' } }));
    const id = body['id'] as number;
    const globex = await t.auth('globex', ['schemas:write', 'events:read']);
    const asB = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
      call(method, url, payload, globex);
    for (const url of [
      '/subjects/fin.invoice.sent/versions',
      '/subjects/fin.invoice.sent/versions/1',
      '/subjects/fin.invoice.sent/versions/latest/schema',
      `/schemas/ids/${id}`,
      `/schemas/ids/${id}/versions`,
    ])
      expect((await asB('GET', url)).status, url).toBe(404);
    expect((await asB('GET', '/subjects')).body).toEqual([]);
    expect((await asB('DELETE', '/subjects/fin.invoice.sent')).status).toBe(404);
    expect(
      (
        await asB('POST', '/subjects/fin.invoice.sent', {
          schema: JSON.stringify(obj({ n: { type: 'integer' } })),
        })
      ).status,
    ).toBe(404);
    // B's config is B's own; changing it leaves A's alone.
    await asB('PUT', '/config', { compatibility: 'NONE' });
    expect((await call('GET', '/config')).body).toMatchObject({ compatibilityLevel: 'BACKWARD' });
    expect((await asB('GET', '/config')).body).toMatchObject({ compatibilityLevel: 'NONE' });
    await asB('DELETE', '/config');
    expect((await asB('GET', '/config')).body).toMatchObject({ compatibilityLevel: 'BACKWARD' });
    // A reference into another tenant's subject does not resolve.
    const ref = await asB('POST', '/subjects/fin.invoice.copied/versions', {
      schema: JSON.stringify({ $ref: 'inv.json' }),
      references: [{ name: 'inv.json', subject: 'fin.invoice.sent', version: 1 }],
    });
    expect(ref).toMatchObject({ status: 422, body: { errors: [{ pointer: '/references/0' }] } });
    expect((await call('GET', '/subjects/fin.invoice.sent/versions')).body).toEqual([1]);
  });
});

describe('ugly input is a 4xx problem+json, never a 5xx', () => {
  const cases: [string, 'GET' | 'POST' | 'PUT' | 'DELETE', string, unknown, number, number?][] = [
    [
      'schema text is not JSON',
      'POST',
      '/subjects/u.a.b/versions',
      { schema: '{"type":' },
      422,
      42201,
    ],
    ['schema is an array', 'POST', '/subjects/u.a.b/versions', { schema: '[1]' }, 422, 42201],
    ['schema is a number', 'POST', '/subjects/u.a.b/versions', { schema: '42' }, 422, 42201],
    [
      'schema fails its meta-schema',
      'POST',
      '/subjects/u.a.b/versions',
      { schema: '{"type":"strin"}' },
      422,
      42201,
    ],
    [
      'minLength is negative',
      'POST',
      '/subjects/u.a.b/versions',
      { schema: '{"minLength":-1}' },
      422,
      42201,
    ],
    [
      'unsupported $schema',
      'POST',
      '/subjects/u.a.b/versions',
      { schema: '{"$schema":"http://json-schema.org/draft-04/schema#"}' },
      422,
      42201,
    ],
    [
      'AVRO schemaType',
      'POST',
      '/subjects/u.a.b/versions',
      { schema: '{}', schemaType: 'AVRO' },
      422,
      42201,
    ],
    ['missing schema', 'POST', '/subjects/u.a.b/versions', { schemaType: 'JSON' }, 400, 42200],
    [
      'schema not a string',
      'POST',
      '/subjects/u.a.b/versions',
      { schema: { type: 'object' } },
      400,
      42200,
    ],
    ['body not JSON', 'POST', '/subjects/u.a.b/versions', '{nope', 400],
    [
      'reference name twice',
      'POST',
      '/subjects/u.a.b/versions',
      {
        schema: '{}',
        references: [
          { name: 'a', subject: 'x', version: 1 },
          { name: 'a', subject: 'y', version: 1 },
        ],
      },
      422,
      42201,
    ],
    [
      'reference version 0',
      'POST',
      '/subjects/u.a.b/versions',
      { schema: '{}', references: [{ name: 'a', subject: 'x', version: 0 }] },
      400,
    ],
    ['subject with a space', 'GET', '/subjects/a%20b/versions', undefined, 400],
    ['subject starting with a dot', 'GET', '/subjects/.hidden/versions', undefined, 400],
    ['version word', 'GET', '/subjects/inv.item.added/versions/newest', undefined, 422, 42202],
    ['version zero', 'GET', '/subjects/inv.item.added/versions/0', undefined, 422, 42202],
    ['version negative', 'GET', '/subjects/inv.item.added/versions/-2', undefined, 422, 42202],
    ['version fraction', 'GET', '/subjects/inv.item.added/versions/1.5', undefined, 422, 42202],
    [
      'version overflow',
      'GET',
      '/subjects/inv.item.added/versions/99999999999',
      undefined,
      422,
      42202,
    ],
    ['version absent', 'GET', '/subjects/inv.item.added/versions/99', undefined, 404, 40402],
    [
      'compatibility version word',
      'POST',
      '/compatibility/subjects/inv.item.added/versions/x',
      { schema: '{}' },
      422,
      42202,
    ],
    ['id not a number', 'GET', '/schemas/ids/abc', undefined, 400],
    ['id zero', 'GET', '/schemas/ids/0', undefined, 400],
    ['id unknown', 'GET', '/schemas/ids/987654', undefined, 404, 40403],
    ['unknown level', 'PUT', '/config', { compatibility: 'SIDEWAYS' }, 422, 42203],
    ['unknown validation mode', 'PUT', '/config/u.a.b', { validation: 'maybe' }, 422],
    ['level not a string', 'PUT', '/config', { compatibility: 7 }, 422, 42203],
    [
      'lookup of an unknown subject',
      'POST',
      '/subjects/nobody.here.yet',
      { schema: '{}' },
      404,
      40401,
    ],
  ];
  for (const [name, method, url, body, status, code] of cases)
    it(name, async () => {
      const response = await call(method, url, body);
      expect(response.status).toBe(status);
      expect(response.type).toMatch(/^application\/problem\+json/);
      expect(response.body['detail']).toEqual(expect.any(String));
      if (code !== undefined) expect(response.body['error_code']).toBe(code);
    });

  it('a schema nested thousands of levels deep is 422, not a stack overflow', async () => {
    // Built as text: JSON.stringify itself would overflow on such a value.
    const levels = 5000;
    const text = `${'{"type":"object","properties":{"a":'.repeat(levels)}{}${'}}'.repeat(levels)}`;
    const response = await call('POST', '/subjects/u.deep.nest/versions', { schema: text });
    expect(response).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(response.body['detail']).toMatch(/nested more than/);
  });

  it('a pattern that cannot run in linear time is 422 naming it', async () => {
    const lookahead = obj({ code: { type: 'string', pattern: '^(?=.*\\d)[a-z\\d]+$' } });
    const response = await register('u.pattern.lookahead', lookahead);
    expect(response).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(response.body['detail']).toMatch(/pattern "\^\(\?=.*cannot be matched in linear time/);
    const backreference = obj({}, []);
    Object.assign(backreference, { patternProperties: { '^(a)\\1$': { type: 'string' } } });
    expect(await register('u.pattern.backref', backreference)).toMatchObject({ status: 422 });
  });

  it('a catastrophically backtracking pattern checked against enum values answers at once', async () => {
    // Proving that every enum value fits the new pattern used to run ^(a+)+$ on 'aaa…!':
    // the native engine took minutes, stalling the hub.
    const value = 'a'.repeat(28) + '!';
    expect((await register('u.pattern.redos', { type: 'string', enum: [value] })).status).toBe(200);
    const narrowed = { type: 'string', enum: [value], pattern: '^(a+)+$' };
    const check = await call('POST', '/compatibility/subjects/u.pattern.redos/versions/latest', {
      schema: JSON.stringify(narrowed),
    });
    expect(check.body).toMatchObject({ is_compatible: false });
    expect(JSON.stringify(check.body['incompatibilities'])).toMatch(/pattern-added/);
  });

  it('a schema over 512 KiB is 422; a body over the request limit is 413', async () => {
    const big = obj(
      Object.fromEntries(
        Array.from({ length: 20_000 }, (_, i) => [`field${i}`, { type: 'string' }]),
      ),
    );
    expect(JSON.stringify(big).length).toBeGreaterThan(512 * 1024);
    expect(await register('u.big.schema', big)).toMatchObject({ status: 422 });
    const huge = { schema: JSON.stringify({ description: 'x'.repeat(6 * 1024 * 1024) }) };
    const response = await call('POST', '/subjects/u.huge.body/versions', huge);
    expect(response.status).toBe(413);
    expect(response.type).toMatch(/^application\/problem\+json/);
  });
});
