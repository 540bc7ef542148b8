/**
 * U+0000 in a path parameter, a query parameter or a JSON body: PostgreSQL text cannot
 * hold it (a 500 in cluster mode), so every engine answers 400 before any write
 * (http/unstorable-values.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { firstUnstorable } from './unstorable-values.ts';

const nulPointer = (value: unknown) => firstUnstorable(value, { nul: true })?.pointer;

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t.close());

async function call(method: 'GET' | 'POST', url: string, body?: unknown) {
  return t.hub.server.inject({
    method,
    url,
    headers: {
      ...(await t.auth('acme', ['admin'])),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

function expectNulProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  location: 'query' | 'path' | 'body',
  pointer: string,
) {
  const detail = 'must not contain the NUL character (U+0000)';
  expect(res.statusCode).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({
    type: 'urn:portico:problem:validation',
    detail: `${location} is invalid: ${pointer} ${detail}`,
    errors: [{ pointer, detail, in: location }],
  });
}

describe('U+0000', () => {
  it('is refused in a path parameter and in the query string', async () => {
    expectNulProblem(await call('GET', '/v1/rules/a%00b'), 'path', '/id');
    expectNulProblem(await call('GET', '/v1/webhooks/endpoints?after=x%00'), 'query', '/after');
  });

  it('is refused in a JSON body, values and keys, and nothing is written', async () => {
    const rule = {
      name: 'nul',
      pattern: { type: ['a.b.c'] },
      targets: [{ kind: 'queue', queue: 'q' }],
    };
    expectNulProblem(
      await call('POST', '/v1/rules', { ...rule, description: 'x\u0000' }),
      'body',
      '/description',
    );
    expectNulProblem(
      await call('POST', '/v1/rules', { ...rule, pattern: { data: { 'k\u0000': ['v'] } } }),
      'body',
      '/pattern/data/k\u0000',
    );
    expect((await call('GET', '/v1/rules')).json()).toMatchObject({ rules: [] });
  });

  it('is found anywhere in parsed JSON', () => {
    expect(nulPointer({ a: [1, 'ok', { b: 'x\u0000' }] })).toBe('/a/2/b');
    expect(nulPointer({ 'a/b': { '~\u0000': 1 } })).toBe('/a~1b/~0\u0000');
    expect(nulPointer('\u0000')).toBe('/');
    expect(nulPointer({ a: ['fine', 1, null, true] })).toBeUndefined();
  });
});
