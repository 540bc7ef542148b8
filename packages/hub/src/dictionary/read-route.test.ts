/** GET /v1/dictionary on a large dictionary: rendered once per change, not once per read. */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { renderDomains } from './render.ts';

// Counts renderings; each one is what every read of a thousand-API dictionary used to pay.
vi.mock(import('./render.ts'), async (importOriginal) => {
  const original = await importOriginal();
  return { ...original, renderDomains: vi.fn(original.renderDomains) };
});

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t.close());

it('renders a dictionary once per app, however often and with whatever app it is read', async () => {
  const headers = {
    ...(await t.auth('large', ['dictionary:write'])),
    'content-type': 'application/json',
  };
  const versions = (i: number) => [
    { version: 'v1', baseUrl: `/api/${i}/v1` },
    { version: 'v2', baseUrl: `/api/${i}/v2`, apps: ['checkout'] },
  ];
  for (let i = 0; i < 50; i++) {
    const put = await t.hub.server.inject({
      method: 'PUT',
      url: `/v1/dictionary/apis/api-${i}`,
      headers,
      payload: JSON.stringify({ domain: `d${i % 5}`, versions: versions(i) }),
    });
    expect(put.statusCode).toBe(201);
  }
  const read = (query: string, extra: Record<string, string> = {}) =>
    t.hub.server.inject({ url: `/v1/dictionary${query}`, headers: { ...headers, ...extra } });
  vi.mocked(renderDomains).mockClear();

  const first = await read('');
  expect(first.statusCode).toBe(200);
  const body = first.json();
  expect(body.domains).toHaveLength(5);
  expect(Object.keys(body)).toEqual(['tenant', 'domains', 'settings']);
  expect((await read('')).body).toBe(first.body);
  const revalidated = await read('', { 'if-none-match': first.headers.etag as string });
  expect(revalidated.statusCode).toBe(304);

  const checkout = await read('?app=checkout');
  expect(checkout.json().domains[0].apis[0].versions).toHaveLength(2);
  expect(checkout.headers.etag).not.toBe(first.headers.etag);
  // Apps that no version names all see the unrestricted versions: one rendering for all.
  const others = await Promise.all(Array.from({ length: 20 }, (_, i) => read(`?app=made-up-${i}`)));
  expect(others.map((r) => r.json().app)).toEqual(others.map((_, i) => `made-up-${i}`));
  expect(others[0]!.json().domains[0].apis[0].versions).toHaveLength(1);
  expect(new Set(others.map((r) => r.headers.etag)).size).toBe(20);
  expect(renderDomains).toHaveBeenCalledTimes(3);

  // A change is a new rendering, with a new ETag.
  const deleted = await t.hub.server.inject({
    method: 'DELETE',
    url: '/v1/dictionary/apis/api-0',
    headers: { authorization: headers.authorization },
  });
  expect(deleted.statusCode).toBe(204);
  const changed = await read('', { 'if-none-match': first.headers.etag as string });
  expect(changed.statusCode).toBe(200);
  expect(changed.json().domains[0].apis).toHaveLength(9);
  expect(renderDomains).toHaveBeenCalledTimes(4);
});
