/**
 * JSON bodies are validated as sent; query strings and path parameters are coerced from text.
 * Before, one coercing validator served both, and a body's `null` or `false` quietly became
 * another value.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { injectJson } from '../testing/inject-json.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
let auth: Record<string, string>;
beforeAll(async () => {
  t = await startTestHub();
  auth = await t.auth('acme', ['rules:write', 'events:read']);
});
afterAll(() => t.close());

const rule = (extra: Record<string, unknown>) => ({
  name: 'pager',
  pattern: { type: ['ops.incident.opened'] },
  targets: [{ kind: 'queue', queue: 'oncall' }],
  ...extra,
});

it('refuses a body value of the wrong type instead of coercing it', async () => {
  // `"enabled": null` used to become false: a rule created (or replaced) disabled.
  const enabledNull = await injectJson(
    t.hub.server,
    'POST',
    '/v1/rules',
    auth,
    rule({ enabled: null }),
  );
  expect(enabledNull.status).toBe(400);
  expect(enabledNull.body).toMatchObject({
    detail: 'body is invalid: /enabled must be boolean',
    errors: [{ pointer: '/enabled', in: 'body' }],
  });
  // A string where an array belongs used to be wrapped into one.
  const targets = await injectJson(t.hub.server, 'POST', '/v1/rules', auth, rule({ targets: 'q' }));
  expect(targets.status).toBe(400);
  expect(targets.body).toMatchObject({ errors: [{ pointer: '/targets', in: 'body' }] });
  // Nothing was written.
  const list = await injectJson<{ rules: unknown[] }>(t.hub.server, 'GET', '/v1/rules', auth);
  expect(list.body.rules).toEqual([]);
});

it('still reads numbers and booleans of a query string from its text', async () => {
  for (const name of ['a', 'b', 'c'])
    expect((await injectJson(t.hub.server, 'POST', '/v1/rules', auth, rule({ name }))).status).toBe(
      201,
    );
  const page = await injectJson<{ rules: { name: string }[]; next?: string }>(
    t.hub.server,
    'GET',
    '/v1/rules?limit=2',
    auth,
  );
  expect(page.status).toBe(200);
  expect(page.body.rules.map((r) => r.name)).toEqual(['a', 'b']);
});

it('reads a number of a query string only from decimal digits', async () => {
  // JavaScript's `==` read these as 10, 2, 2 and 2: Ajv coerced them so.
  for (const limit of ['1e1', '0x2', '%202', '2.0', '%20']) {
    const res = await injectJson(t.hub.server, 'GET', `/v1/rules?limit=${limit}`, auth);
    expect(res.status, limit).toBe(400);
    expect(res.body, limit).toMatchObject({
      errors: [{ pointer: '/limit', in: 'query', detail: 'must be an integer in decimal digits' }],
    });
  }
  expect((await injectJson(t.hub.server, 'GET', '/v1/rules?limit=2', auth)).status).toBe(200);
});
