import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

// Errors Fastify raises before a route runs still reach clients as problem+json.
describe('errors raised before routing', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.close());

  it('an over-long path parameter is a 414 problem', async () => {
    const response = await t.hub.server.inject({
      method: 'GET',
      url: `/v1/rules/${'a'.repeat(150)}`,
      headers: await t.auth('acme', ['events:read']),
    });
    expect(response.statusCode).toBe(414);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 414, title: 'URI too long' });
  });

  it('a JSON body nested deeper than 256 levels is a 400 problem, not a stack overflow', async () => {
    const response = await t.hub.server.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: { ...(await t.auth('acme', ['rules:write'])), 'content-type': 'application/json' },
      payload: `{"name":"deep","pattern":{"a":${'['.repeat(6000)}${']'.repeat(6000)}}}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const pointer = `/pattern/a${'/0'.repeat(254)}`;
    expect(response.json()).toMatchObject({
      type: 'urn:portico:problem:validation',
      detail: `body is invalid: ${pointer} is nested deeper than 256 levels`,
      errors: [{ pointer, detail: 'is nested deeper than 256 levels', in: 'body' }],
    });
  });

  it('a malformed percent-encoding is a 400 problem', async () => {
    const response = await t.hub.server.inject({
      method: 'GET',
      url: '/v1/rules/%E0%A4%A',
      headers: await t.auth('acme', ['events:read']),
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().detail).toContain('malformed');
  });
});
