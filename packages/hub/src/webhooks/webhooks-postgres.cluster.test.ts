/**
 * The webhooks capability on the PostgreSQL state store (127.0.0.1:5432, trust auth; a
 * fresh database per run): endpoints, their rules, delivery with verified signatures,
 * rotation, the DLQ and recover, and the failing streak, on the scale-out store.
 */
import { waitFor } from '../testing/wait-for.ts';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/cluster/engines.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { injectJson } from '../testing/inject-json.ts';
import { WebhookReceiver } from './testing/webhook-receiver.ts';
import { LOOPBACK_WEBHOOKS } from './testing/loopback-webhooks.ts';

let database: TestDatabase;

let t: TestHub;
let receiver: WebhookReceiver;
let auth: { authorization: string };

beforeAll(async () => {
  database = await createTestDatabase('webhooks');
  receiver = await WebhookReceiver.start();
  t = await startTestHub({
    store: { kind: 'postgres', url: database.url },
    webhooks: {
      ...LOOPBACK_WEBHOOKS,
      retryScheduleSeconds: [0.05, 0.05],
    },
  });
  auth = await t.auth('acme', ['webhooks:write', 'events:publish']);
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
  await database?.drop();
});

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
  injectJson(t.hub.server, method, url, auth, body);

async function publish(id: string) {
  const res = await t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth, 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({
      specversion: '1.0',
      id,
      source: '/pg',
      type: 'billing.invoice.paid',
    }),
  });
  expect(res.statusCode).toBe(202);
}

it('creates, delivers (verified), rotates, dead-letters and recovers on PostgreSQL', async () => {
  let healthy = true;
  receiver.script('/pg', () => (healthy ? { status: 204 } : { status: 500 }));
  const created = await api('POST', '/v1/webhooks/endpoints', {
    url: receiver.url('/pg'),
    eventTypes: ['billing.>'],
    rateLimitPerSecond: 100,
  });
  expect(created.status).toBe(201);
  const id = created.body['id'] as string;
  const secret = created.body['secret'] as string;

  await publish('pg-1');
  const first = await waitFor(() => receiver.on('/pg')[0], 'the delivery');
  expect(
    new Webhook(secret).verify(first.body, first.headers as Record<string, string>),
  ).toMatchObject({
    id: 'pg-1',
  });

  const rotated = await api('POST', `/v1/webhooks/endpoints/${id}/rotate-secret`, {});
  healthy = false;
  const since = new Date(Date.now() - 1000).toISOString();
  await publish('pg-2');
  await waitFor(async () => {
    const dlq = await api('GET', `/v1/webhooks/endpoints/${id}/dlq`);
    return (dlq.body['entries'] as unknown[]).length === 1;
  }, 'the DLQ entry');
  const failing = await api('GET', `/v1/webhooks/endpoints/${id}`);
  expect(failing.body['failingSince']).toEqual(expect.any(String));

  healthy = true;
  const recovered = await api('POST', `/v1/webhooks/endpoints/${id}/recover`, { since });
  expect(recovered.body).toEqual({ recovered: 1, more: false });
  const last = await waitFor(
    () => receiver.on('/pg').length === 5 && receiver.on('/pg')[4],
    'the recovered one',
  );
  for (const s of [secret, rotated.body['secret'] as string])
    expect(new Webhook(s).verify(last.body, last.headers as Record<string, string>)).toMatchObject({
      id: 'pg-2',
    });
  const healed = await api('GET', `/v1/webhooks/endpoints/${id}`);
  expect(healed.body['failingSince']).toBeNull();

  const patched = await api('PATCH', `/v1/webhooks/endpoints/${id}`, { eventTypes: ['orders.>'] });
  expect(patched.body['eventTypes']).toEqual(['orders.>']);
  await publish('pg-3');
  const attempts = await api('GET', `/v1/webhooks/endpoints/${id}/attempts`);
  expect((attempts.body['attempts'] as unknown[]).length).toBe(5);
});

it('records a receiver answer holding a NUL byte, and sends the event once', async () => {
  // PostgreSQL text cannot hold U+0000: the attempt's insert failed, the delivery was never
  // settled, and the event was sent again after every lease, forever.
  receiver.script('/nul', () => ({ status: 200, body: 'ok\u0000' }));
  const created = await api('POST', '/v1/webhooks/endpoints', {
    url: receiver.url('/nul'),
    eventTypes: ['nul.>'],
  });
  expect(created.status).toBe(201);
  const id = created.body['id'] as string;
  const res = await t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth, 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({ specversion: '1.0', id: 'nul-1', source: '/pg', type: 'nul.x.y' }),
  });
  expect(res.statusCode).toBe(202);
  const attempts = await waitFor(async () => {
    const list = (await api('GET', `/v1/webhooks/endpoints/${id}/attempts`)).body['attempts'];
    return (list as unknown[]).length > 0 && (list as Record<string, unknown>[]);
  }, 'the recorded attempt');
  expect(attempts).toMatchObject([{ outcome: 'delivered', response: 'ok\uFFFD' }]);
  expect(receiver.on('/nul')).toHaveLength(1);
});
