/**
 * `GET /v1/catalog/contracts` on a real hub: types from both apps' manifests with their
 * publishers and consumers, the registry's schema winning over a manifest's, a `schemaRef`
 * resolved, an event without a schema as null, ETag/304, tenant isolation and the scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import {
  INCIDENT_CREATED_REGISTERED,
  INVOICE_PAID_REGISTERED,
  seedPortalContracts,
} from './testing/seed-portal-contracts.ts';

let t: TestHub;

beforeAll(async () => {
  t = await startTestHub();
  await seedPortalContracts(t, 'acme');
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const get = async (headers: Record<string, string>) =>
  t.hub.server.inject({ method: 'GET', url: '/v1/catalog/contracts', headers });

describe('GET /v1/catalog/contracts', () => {
  it('lists every declared type with its schema, publishers and consumers', async () => {
    const res = await get(await t.auth('acme', ['events:read']));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json<{ events: Record<string, unknown> }>();
    expect(Object.keys(body.events)).toEqual([
      'billing.invoice.paid',
      'billing.invoice.voided',
      'incident.ticket.created',
    ]);
    expect(body.events['billing.invoice.paid']).toEqual({
      schema: INVOICE_PAID_REGISTERED,
      publishers: ['billing'],
      consumers: ['incidents'],
    });
    // Registered after the manifests: the registry's schema is the one publishes meet.
    expect(body.events['incident.ticket.created']).toEqual({
      schema: INCIDENT_CREATED_REGISTERED,
      publishers: ['incidents'],
      consumers: ['billing'],
    });
    expect(body.events['billing.invoice.voided']).toEqual({
      schema: null,
      publishers: ['billing'],
      consumers: [],
    });
  });

  it('answers 304 to a matching If-None-Match, and a new tag once the catalog changes', async () => {
    const headers = await t.auth('acme', ['events:read']);
    const first = await get(headers);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await get({ ...headers, 'if-none-match': `W/${etag}` });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');

    const writer = {
      ...(await t.auth('acme', ['schemas:write'])),
      'content-type': 'application/json',
    };
    const put = await t.hub.server.inject({
      method: 'PUT',
      url: '/v1/catalog/apps/audit',
      headers: writer,
      payload: JSON.stringify({
        name: 'audit',
        owner: { team: 'sec', contact: 'sec@acme.example' },
        domain: 'audit',
        events: { consumes: [{ type: 'billing.invoice.voided', schema: { type: 'object' } }] },
      }),
    });
    expect(put.statusCode).toBe(201);
    const changed = await get({ ...headers, 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json().events['billing.invoice.voided']).toEqual({
      schema: { type: 'object' },
      publishers: ['billing'],
      consumers: ['audit'],
    });
  });

  it('shows another tenant only its own (empty) catalog', async () => {
    const res = await get(await t.auth('globex', ['events:read']));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ events: {} });
  });

  it('needs events:read and a token', async () => {
    const forbidden = await get(await t.auth('acme', ['events:publish']));
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await get({})).statusCode).toBe(401);
  });
});
