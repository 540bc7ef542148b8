/** The Rules API over HTTP: the happy paths, tenancy, and the ugly inputs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../auth/principal.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t.close());

const WRITER: Scope[] = ['events:read', 'rules:write'];

async function api(
  tenant: string,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  payload?: unknown,
  scopes = WRITER,
) {
  return t.hub.server.inject({
    method,
    url,
    headers: {
      ...(await t.auth(tenant, scopes)),
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(payload !== undefined
      ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }
      : {}),
  });
}

const rule = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  pattern: { type: ['incident.ticket.created'] },
  targets: [{ kind: 'queue', queue: 'oncall' }],
  ...extra,
});

describe('rules API', () => {
  it('creates, reads, lists, replaces and deletes a rule', async () => {
    const created = await api(
      'acme',
      'POST',
      '/v1/rules',
      rule('crud', { description: 'pages people' }),
    );
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(created.headers.location).toBe(`/v1/rules/${body.id}`);
    expect(body).toMatchObject({
      name: 'crud',
      description: 'pages people',
      scope: 'tenant',
      tenant: 'acme',
      enabled: true,
      revision: 1,
      targets: [{ kind: 'queue', queue: 'oncall', ordered: false }],
    });
    expect(body.warnings).toBeUndefined();

    expect((await api('acme', 'GET', `/v1/rules/${body.id}`)).json()).toEqual(body);
    expect(
      (await api('acme', 'GET', '/v1/rules')).json().rules.map((r: { name: string }) => r.name),
    ).toContain('crud');

    const replaced = await api(
      'acme',
      'PUT',
      `/v1/rules/${body.id}`,
      rule('crud-2', { enabled: false, targets: [] }),
    );
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({
      id: body.id,
      name: 'crud-2',
      enabled: false,
      targets: [],
      revision: 2,
    });

    expect((await api('acme', 'DELETE', `/v1/rules/${body.id}`)).statusCode).toBe(204);
    expect((await api('acme', 'GET', `/v1/rules/${body.id}`)).statusCode).toBe(404);
    expect((await api('acme', 'DELETE', `/v1/rules/${body.id}`)).statusCode).toBe(404);
  });

  it('pages through the list by name', async () => {
    for (const name of ['page-a', 'page-b', 'page-c'])
      await api('pager', 'POST', '/v1/rules', rule(name));
    const first = (await api('pager', 'GET', '/v1/rules?limit=2')).json();
    expect(first.rules.map((r: { name: string }) => r.name)).toEqual(['page-a', 'page-b']);
    const second = (await api('pager', 'GET', `/v1/rules?limit=2&after=${first.next}`)).json();
    expect(second).toEqual({ rules: [expect.objectContaining({ name: 'page-c' })] });
  });

  it("keeps tenants apart: another tenant's rule is 404 for every verb", async () => {
    const id = (await api('acme', 'POST', '/v1/rules', rule('secret'))).json().id as string;
    expect((await api('globex', 'GET', `/v1/rules/${id}`)).statusCode).toBe(404);
    expect((await api('globex', 'PUT', `/v1/rules/${id}`, rule('stolen'))).statusCode).toBe(404);
    expect((await api('globex', 'DELETE', `/v1/rules/${id}`)).statusCode).toBe(404);
    expect(
      (await api('globex', 'GET', '/v1/rules')).json().rules.map((r: { id: string }) => r.id),
    ).not.toContain(id);
    expect((await api('globex', 'GET', '/v1/rules?tenant=acme')).statusCode).toBe(403);
    expect((await api('acme', 'GET', `/v1/rules/${id}`)).statusCode).toBe(200);
    // The same name is free in another tenant.
    expect((await api('globex', 'POST', '/v1/rules', rule('secret'))).statusCode).toBe(201);
  });

  it('needs rules:write to write and events:read to read', async () => {
    expect((await api('acme', 'POST', '/v1/rules', rule('nope'), ['events:read'])).statusCode).toBe(
      403,
    );
    expect((await api('acme', 'GET', '/v1/rules', undefined, ['events:publish'])).statusCode).toBe(
      403,
    );
    const res = await t.hub.server.inject({ method: 'GET', url: '/v1/rules' });
    expect(res.statusCode).toBe(401);
  });

  it('lets only admins own platform rules', async () => {
    const denied = await api(
      'acme',
      'POST',
      '/v1/rules',
      rule('platform-wide', { scope: 'platform' }),
    );
    expect(denied.statusCode).toBe(403);
    expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
    const created = await api(
      'ops',
      'POST',
      '/v1/rules',
      rule('platform-wide', { scope: 'platform' }),
      ['admin'],
    );
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ scope: 'platform' });
    expect(created.json().tenant).toBeUndefined();
    const id = created.json().id as string;
    expect((await api('acme', 'GET', `/v1/rules/${id}`)).statusCode).toBe(404);
    expect(
      (await api('ops', 'GET', '/v1/rules?scope=platform', undefined, ['admin'])).json().rules,
    ).toHaveLength(1);
    expect((await api('acme', 'GET', '/v1/rules?scope=platform')).statusCode).toBe(403);
    const rescope = await api(
      'ops',
      'PUT',
      `/v1/rules/${id}`,
      rule('platform-wide', { scope: 'tenant' }),
      ['admin'],
    );
    expect(rescope.statusCode).toBe(400);
    expect(rescope.json().errors).toEqual([
      { pointer: '/scope', detail: 'must be "platform" (or omitted)' },
    ]);
  });

  it('refuses a second rule with the same name in a tenant (409), on create and on rename', async () => {
    await api('acme', 'POST', '/v1/rules', rule('dup'));
    const again = await api('acme', 'POST', '/v1/rules', rule('dup'));
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ type: 'urn:portico:problem:conflict', status: 409 });
    const other = (await api('acme', 'POST', '/v1/rules', rule('dup-other'))).json().id as string;
    expect((await api('acme', 'PUT', `/v1/rules/${other}`, rule('dup'))).statusCode).toBe(409);
    expect((await api('acme', 'GET', `/v1/rules/${other}`)).json().name).toBe('dup-other');
  });

  it('points at the offending part of an invalid pattern and says what was expected', async () => {
    const res = await api(
      'acme',
      'POST',
      '/v1/rules',
      rule('bad-pattern', { pattern: { data: { severity: [{ prefix: 5 }], count: 'high' } } }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body.type).toBe('urn:portico:problem:validation');
    const pointers = body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toContain('/pattern/data/severity/0/prefix');
    expect(pointers).toContain('/pattern/data/count');
    expect(body.errors.every((e: { detail: string }) => e.detail.length > 0)).toBe(true);
    expect(
      (await api('acme', 'GET', '/v1/rules')).json().rules.map((r: { name: string }) => r.name),
    ).not.toContain('bad-pattern');
  });

  it('rejects ugly bodies with 4xx problems, never 5xx, and writes nothing', async () => {
    const cases: [unknown, number, string][] = [
      ['{"name": ', 400, '/'],
      [[], 400, '/'],
      [{ pattern: {} }, 400, '/name'],
      [{ name: 'x' }, 400, '/pattern'],
      [{ name: '../etc', pattern: {} }, 400, '/name'],
      [{ name: 'x', pattern: 'type=incident' }, 400, '/pattern'],
      [{ name: 'x', pattern: { type: 'incident.ticket.created' } }, 400, '/pattern/type'],
      // (the server's schema errors name an unknown property in the detail, not the pointer)
      [{ name: 'x', pattern: {}, surprise: 1 }, 400, '/'],
      [{ name: 'x', pattern: {}, targets: [{ kind: 'ftp', host: 'x' }] }, 400, '/targets/0/kind'],
      [{ name: 'x', pattern: {}, targets: [{ kind: 'queue' }] }, 400, '/targets/0/queue'],
      [
        { name: 'x', pattern: {}, targets: [{ kind: 'queue', queue: 'Bad Name!' }] },
        400,
        '/targets/0/queue',
      ],
      [
        { name: 'x', pattern: {}, targets: [{ kind: 'queue', queue: 'q', channel: 'c' }] },
        400,
        '/targets/0/channel',
      ],
      [
        { name: 'x', pattern: {}, targets: [{ kind: 'push', channel: 'c', ordered: 'yes' }] },
        400,
        '/targets/0/ordered',
      ],
      [
        {
          name: 'x',
          pattern: {},
          targets: [{ kind: 'queue', queue: 'q', retry: { maxAttempts: 0 } }],
        },
        400,
        '/targets/0/retry/maxAttempts',
      ],
      [
        {
          name: 'x',
          pattern: {},
          targets: [{ kind: 'queue', queue: 'q', retry: { delaysSeconds: [1, -1] } }],
        },
        400,
        '/targets/0/retry/delaysSeconds/1',
      ],
      [
        {
          name: 'x',
          pattern: {},
          targets: [
            { kind: 'queue', queue: 'q', retry: { delaysSeconds: [1], baseDelaySeconds: 1 } },
          ],
        },
        400,
        '/targets/0/retry/delaysSeconds',
      ],
      [
        {
          name: 'x',
          pattern: {},
          targets: [
            {
              kind: 'queue',
              queue: 'q',
              inputTransform: { paths: { a: '$.data[*]' }, template: '<a>' },
            },
          ],
        },
        400,
        '/targets/0/inputTransform/paths/a',
      ],
      [
        {
          name: 'x',
          pattern: {},
          targets: [
            { kind: 'queue', queue: 'q', inputTransform: { paths: {}, template: '<nope>' } },
          ],
        },
        400,
        '/targets/0/inputTransform/template',
      ],
      [
        {
          name: 'x',
          pattern: {},
          targets: Array.from({ length: 11 }, () => ({ kind: 'queue', queue: 'q' })),
        },
        400,
        '/targets',
      ],
      [{ name: 'x', pattern: { data: { blob: ['x'.repeat(17_000)] } } }, 400, '/pattern'],
    ];
    for (const [payload, status, pointer] of cases) {
      const res = await api('ugly', 'POST', '/v1/rules', payload);
      expect(res.statusCode, `${JSON.stringify(payload).slice(0, 80)} → ${res.body}`).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const errors = (res.json().errors ?? [{ pointer: '/' }]) as { pointer: string }[];
      expect(
        errors.map((e) => e.pointer),
        JSON.stringify(payload).slice(0, 80),
      ).toContain(pointer);
    }
    expect((await api('ugly', 'GET', '/v1/rules')).json().rules).toEqual([]);
    expect((await api('ugly', 'GET', '/v1/rules/not-a-rule')).statusCode).toBe(404);
    expect((await api('ugly', 'GET', '/v1/rules?limit=0')).statusCode).toBe(400);
  });

  it('accepts a webhook target, without a warning now that the webhooks capability sends them', async () => {
    const res = await api(
      'acme',
      'POST',
      '/v1/rules',
      rule('to-webhook', { targets: [{ kind: 'webhook', endpointId: 'ep_123' }] }),
    );
    expect(res.statusCode).toBe(201);
    expect(res.json().warnings).toBeUndefined();
  });

  it('tests a pattern against an event and says why it does not match', async () => {
    const event = { id: '1', type: 'incident.ticket.created', data: { severity: 'low' } };
    const hit = await api(
      'acme',
      'POST',
      '/v1/rules/test',
      { pattern: { data: { severity: ['low'] } }, event },
      ['events:read'],
    );
    expect(hit.json()).toEqual({ matches: true, reasons: [] });
    const miss = (
      await api(
        'acme',
        'POST',
        '/v1/rules/test',
        { pattern: { data: { severity: ['high', 'critical'] } }, event },
        ['events:read'],
      )
    ).json();
    expect(miss.matches).toBe(false);
    expect(miss.reasons.join(' ')).toMatch(/severity/);
    const invalid = await api(
      'acme',
      'POST',
      '/v1/rules/test',
      { pattern: { data: { severity: [{ numeric: ['>'] }] } }, event },
      ['events:read'],
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().errors[0].pointer).toMatch(/^\/pattern\/data\/severity\/0/);
    expect(
      (await api('acme', 'POST', '/v1/rules/test', { pattern: {} }, ['events:read'])).statusCode,
    ).toBe(400);
  });
});

describe('the reserved portico. event domain', () => {
  const publish = async (scopes: Scope[]) =>
    t.hub.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        ...(await t.auth('acme', scopes)),
        'content-type': 'application/cloudevents+json',
      },
      payload: JSON.stringify({
        specversion: '1.0',
        id: 'p1',
        source: '/x',
        type: 'portico.queue.copy',
      }),
    });

  it('is refused to producers (403) and open to admins', async () => {
    const refused = await publish(['events:publish']);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toMatch(/reserved "portico\." domain/);
    expect((await publish(['admin'])).statusCode).toBe(202);
  });
});
