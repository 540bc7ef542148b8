/**
 * Values no store keeps as sent are a 400, before any write:
 * - "Infinity" and "-Infinity" in a query string, where Ajv's coercion turns them into numbers
 *   that pass `integer`, `minimum` and `maximum`, and 1e999 in JSON, which parses to Infinity;
 * - U+0000 in a path parameter, a query parameter or a JSON body: PostgreSQL text cannot
 *   hold it (a 500 in cluster mode), so every engine answers 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../auth/principal.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { firstUnstorable } from './unstorable-values.ts';

const nonFinitePointer = (value: unknown) => firstUnstorable(value, { nul: false })?.pointer;
const nulPointer = (value: unknown) => firstUnstorable(value, { nul: true })?.pointer;

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t.close());

async function call(method: string, url: string, scopes: Scope[], body?: unknown, tenant = 'acme') {
  return t.hub.server.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(await t.auth(tenant, scopes)),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    // A string is sent as it is: JSON text with numbers JSON.stringify cannot write (1e999).
    ...(body !== undefined
      ? { payload: typeof body === 'string' ? body : JSON.stringify(body) }
      : {}),
  });
}

const NON_FINITE = 'must be a finite number';
const NUL = 'must not contain the NUL character (U+0000)';

type Answer = { statusCode: number; headers: Record<string, unknown>; json(): unknown };
type Where = 'query' | 'path' | 'body';

function expectProblem(res: Answer, location: Where, pointer: string, detail: string) {
  expect(res.statusCode).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({
    type: 'urn:portico:problem:validation',
    detail: `${location} is invalid: ${pointer} ${detail}`,
    errors: [{ pointer, detail, in: location }],
  });
}
const expectFiniteProblem = (res: Answer, location: Where, pointer: string) =>
  expectProblem(res, location, pointer, NON_FINITE);
const expectNulProblem = (res: Answer, location: Where, pointer: string) =>
  expectProblem(res, location, pointer, NUL);

describe('non-finite numbers', () => {
  it('are refused in the query string', async () => {
    // A number there is read from decimal digits only (validator-compiler.ts).
    const notDecimal = 'must be an integer in decimal digits';
    expectProblem(
      await call('GET', '/v1/rules?limit=Infinity', ['events:read']),
      'query',
      '/limit',
      notDecimal,
    );
    expectProblem(
      await call('GET', '/v1/events?after=-Infinity', ['events:read']),
      'query',
      '/after',
      notDecimal,
    );
  });

  it('are refused in a JSON body', async () => {
    // 1e999 parses to Infinity. A field typed as a number refuses it itself (JSON bodies are
    // not coerced, so Ajv's own finite check answers); anywhere else this check does.
    expectProblem(
      await call(
        'PUT',
        '/v1/consumer-groups/workers',
        ['events:read'],
        '{"topic":"incident.>","ackWaitSeconds":-1e999}',
      ),
      'body',
      '/ackWaitSeconds',
      'must be number',
    );
    expectFiniteProblem(
      await call(
        'POST',
        '/v1/rules',
        ['rules:write'],
        '{"name":"inf","pattern":{"data":{"n":[1e999]}},"targets":[{"kind":"queue","queue":"q"}]}',
      ),
      'body',
      '/pattern/data/n/0',
    );
  });

  it('write nothing: the endpoint and the override list stay readable', async () => {
    const created = await call('POST', '/v1/webhooks/endpoints', ['webhooks:write'], {
      url: 'https://erp.example.com/hooks',
    });
    expect(created.statusCode).toBe(201);
    const { id } = created.json();
    expectFiniteProblem(
      await call(
        'PATCH',
        `/v1/webhooks/endpoints/${id}`,
        ['webhooks:write'],
        '{"filter":{"data":{"amount":[{"numeric":[">",1e999]}]}}}',
      ),
      'body',
      '/filter/data/amount/0/numeric/1',
    );
    const endpoint = await call('GET', `/v1/webhooks/endpoints/${id}`, ['webhooks:write']);
    expect(endpoint.statusCode).toBe(200);
    expect(endpoint.json().filter).toBeNull();

    // A field typed as an integer refuses Infinity itself.
    expectProblem(
      await call(
        'POST',
        '/v1/dictionary/overrides',
        ['dictionary:write'],
        '{"name":"forever","ttlSeconds":1e999,"patch":[{"api":"orders","version":"v2","baseUrl":"https://canary.example.com"}]}',
      ),
      'body',
      '/ttlSeconds',
      'must be integer',
    );
    const overrides = await call('GET', '/v1/dictionary/overrides', ['dictionary:write']);
    expect(overrides.statusCode).toBe(200);
    expect(overrides.json().overrides).toEqual([]);
  });

  it('are found at any depth, with an escaped pointer', () => {
    expect(nonFinitePointer({ a: [1, { 'b/c~': Infinity }] })).toBe('/a/1/b~1c~0');
    expect(nonFinitePointer(-Infinity)).toBe('/');
    expect(nonFinitePointer({ a: [1, 2.5, -3], b: 'Infinity' })).toBeUndefined();
    expect(nonFinitePointer(Buffer.from('x'))).toBeUndefined();
  });
});

// Another tenant: the webhook endpoint above made a managed rule in acme's.
const admin = (method: string, url: string, body?: unknown) =>
  call(method, url, ['admin'], body, 'globex');

describe('U+0000', () => {
  it('is refused in a path parameter and in the query string', async () => {
    expectNulProblem(await admin('GET', '/v1/rules/a%00b'), 'path', '/id');
    expectNulProblem(await admin('GET', '/v1/webhooks/endpoints?after=x%00'), 'query', '/after');
  });

  it('is refused in a JSON body, values and keys, and nothing is written', async () => {
    const rule = {
      name: 'nul',
      pattern: { type: ['a.b.c'] },
      targets: [{ kind: 'queue', queue: 'q' }],
    };
    expectNulProblem(
      await admin('POST', '/v1/rules', { ...rule, description: 'x\u0000' }),
      'body',
      '/description',
    );
    expectNulProblem(
      await admin('POST', '/v1/rules', {
        ...rule,
        pattern: { data: { 'k\u0000': ['v'] } },
      }),
      'body',
      '/pattern/data/k\u0000',
    );
    expect((await admin('GET', '/v1/rules')).json()).toMatchObject({ rules: [] });
  });

  it('is found anywhere in parsed JSON', () => {
    expect(nulPointer({ a: [1, 'ok', { b: 'x\u0000' }] })).toBe('/a/2/b');
    expect(nulPointer({ 'a/b': { '~\u0000': 1 } })).toBe('/a~1b/~0\u0000');
    expect(nulPointer('\u0000')).toBe('/');
    expect(nulPointer({ a: ['fine', 1, null, true] })).toBeUndefined();
  });
});
