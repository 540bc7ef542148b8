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
