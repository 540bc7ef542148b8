/**
 * "Infinity" and "-Infinity" where a number is expected: Ajv's coercion turns them into
 * numbers that pass `integer`, `minimum` and `maximum`. They are a 400, before any write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../auth/principal.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { firstUnstorable } from './unstorable-values.ts';

const nonFinitePointer = (value: unknown) => firstUnstorable(value, { nul: false })?.pointer;

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t.close());

async function call(method: string, url: string, scopes: Scope[], body?: unknown) {
  return t.hub.server.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(await t.auth('acme', scopes)),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

function expectFiniteProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  location: 'query' | 'path' | 'body',
  pointer: string,
) {
  expect(res.statusCode).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({
    type: 'urn:portico:problem:validation',
    detail: `${location} is invalid: ${pointer} must be a finite number`,
    errors: [{ pointer, detail: 'must be a finite number', in: location }],
  });
}

describe('non-finite numbers', () => {
  it('are refused in the query string', async () => {
    expectFiniteProblem(
      await call('GET', '/v1/rules?limit=Infinity', ['events:read']),
      'query',
      '/limit',
    );
    expectFiniteProblem(
      await call('GET', '/v1/events?after=-Infinity', ['events:read']),
      'query',
      '/after',
    );
  });

  it('are refused in a JSON body', async () => {
    expectFiniteProblem(
      await call('PUT', '/v1/consumer-groups/workers', ['events:read'], {
        topic: 'incident.>',
        ackWaitSeconds: '-Infinity',
      }),
      'body',
      '/ackWaitSeconds',
    );
    expectFiniteProblem(
      await call('POST', '/v1/consumer-groups/workers/pull', ['events:read'], {
        consumer: 'c1',
        max: 'Infinity',
      }),
      'body',
      '/max',
    );
  });

  it('write nothing: the endpoint and the override list stay readable', async () => {
    const created = await call('POST', '/v1/webhooks/endpoints', ['webhooks:write'], {
      url: 'https://erp.example.com/hooks',
    });
    expect(created.statusCode).toBe(201);
    const { id } = created.json();
    expectFiniteProblem(
      await call('PATCH', `/v1/webhooks/endpoints/${id}`, ['webhooks:write'], {
        rateLimitPerSecond: 'Infinity',
      }),
      'body',
      '/rateLimitPerSecond',
    );
    const endpoint = await call('GET', `/v1/webhooks/endpoints/${id}`, ['webhooks:write']);
    expect(endpoint.statusCode).toBe(200);
    expect(endpoint.json().rateLimitPerSecond).not.toBe('Infinity');

    expectFiniteProblem(
      await call('POST', '/v1/dictionary/overrides', ['dictionary:write'], {
        name: 'forever',
        ttlSeconds: 'Infinity',
        patch: [{ api: 'orders', version: 'v2', baseUrl: 'https://canary.example.com' }],
      }),
      'body',
      '/ttlSeconds',
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
