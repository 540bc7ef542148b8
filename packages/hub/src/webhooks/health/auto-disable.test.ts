/**
 * An endpoint failing for longer than `disableAfterFailingSeconds` is disabled, and the
 * `portico.webhook.endpoint-disabled` operational event it causes is deliverable like any
 * other: here a platform rule (scope admin) routes it to an operations team's endpoint.
 */
import { waitFor } from '../../testing/wait-for.ts';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../testing/test-hub.ts';
import { WebhookReceiver } from '../testing/webhook-receiver.ts';
import { LOOPBACK_WEBHOOKS } from '../testing/loopback-webhooks.ts';

let t: TestHub;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  t = await startTestHub({
    webhooks: {
      ...LOOPBACK_WEBHOOKS,
      retryScheduleSeconds: Array.from({ length: 40 }, () => 0.05),
      disableAfterFailingSeconds: 0.5,
    },
  });
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function call(
  headers: Record<string, string>,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
) {
  const res = await t.hub.server.inject({
    method,
    url,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
}

it('disables an endpoint that keeps failing and emits portico.webhook.endpoint-disabled, routable by a platform rule', async () => {
  const ops = await t.auth('ops', ['webhooks:write']);
  const admin = await t.auth('ops', ['admin']);
  const acme = await t.auth('acme', ['webhooks:write', 'events:publish', 'events:read']);

  // The operations team's endpoint, fed by a platform rule over every tenant's notices.
  const opsEndpoint = await call(ops, 'POST', '/v1/webhooks/endpoints', {
    url: receiver.url('/ops'),
    eventTypes: ['opsonly.nothing.here'],
  });
  expect(opsEndpoint.status).toBe(201);
  const rule = await call(admin, 'POST', '/v1/rules', {
    name: 'endpoint-notices',
    scope: 'platform',
    pattern: { type: ['portico.webhook.endpoint-disabled'] },
    targets: [{ kind: 'webhook', endpointId: opsEndpoint.body['id'] }],
  });
  expect(rule.status).toBe(201);

  receiver.script('/broken', () => ({ status: 500 }));
  const broken = await call(acme, 'POST', '/v1/webhooks/endpoints', {
    url: receiver.url('/broken'),
    eventTypes: ['billing.>'],
  });
  const id = broken.body['id'] as string;
  const published = await t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...acme, 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({
      specversion: '1.0',
      id: 'b-1',
      source: '/t',
      type: 'billing.invoice.paid',
    }),
  });
  expect(published.statusCode).toBe(202);

  const disabled = await waitFor(async () => {
    const res = await call(acme, 'GET', `/v1/webhooks/endpoints/${id}`);
    return res.body['enabled'] === false && res.body;
  }, 'the endpoint disabled');
  expect(disabled['disabledReason']).toBe('failing');
  expect(disabled['failingSince']).toEqual(expect.any(String));

  const notice = await waitFor(() => receiver.on('/ops')[0], 'the notice at the ops endpoint');
  const event = new Webhook(opsEndpoint.body['secret'] as string).verify(
    notice.body,
    notice.headers as Record<string, string>,
  ) as Record<string, unknown>;
  expect(event).toMatchObject({
    type: 'portico.webhook.endpoint-disabled',
    tenantid: 'acme',
    subject: id,
    data: { endpointId: id, reason: 'failing' },
  });
  expect(JSON.stringify(event)).not.toContain('/broken'); // the URL is not in the notice

  // Enabling clears the streak; what failed meanwhile can be recovered.
  const enabled = await call(acme, 'POST', `/v1/webhooks/endpoints/${id}/enable`);
  expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
});

it('starts a new streak after a re-enable: an attempt that fails after it, though begun before, does not disable again', async () => {
  const acme = await t.auth('acme', ['webhooks:write', 'events:publish']);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // Every attempt fails; the one of event `slow` only once released.
  receiver.script('/streak', (_n, r) =>
    JSON.parse(r.body).id === 'slow' ? { status: 500, hold: held } : { status: 500 },
  );
  const created = await call(acme, 'POST', '/v1/webhooks/endpoints', {
    url: receiver.url('/streak'),
    eventTypes: ['streak.test.sent'],
  });
  const id = created.body['id'] as string;
  const publish = (eventId: string) =>
    t.hub.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...acme, 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify({
        specversion: '1.0',
        id: eventId,
        source: '/t',
        type: 'streak.test.sent',
      }),
    });
  await publish('fast');
  await waitFor(() => receiver.on('/streak').length >= 2, 'the streak under way');
  await publish('slow'); // its attempt starts during the streak, and is held
  await waitFor(
    () => receiver.on('/streak').some((r) => JSON.parse(r.body).id === 'slow'),
    'the held attempt',
  );
  await waitFor(async () => {
    const res = await call(acme, 'GET', `/v1/webhooks/endpoints/${id}`);
    return res.body['enabled'] === false;
  }, 'the endpoint disabled');

  const enabled = await call(acme, 'POST', `/v1/webhooks/endpoints/${id}/enable`);
  expect(enabled.body).toMatchObject({ enabled: true, failingSince: null });
  release();
  await waitFor(async () => {
    const res = await call(acme, 'GET', `/v1/webhooks/endpoints/${id}/events/slow/attempts`);
    const deliveries = res.body['deliveries'] as { attempts: unknown[] }[] | undefined;
    return deliveries?.[0]?.attempts.length === 1;
  }, 'the held attempt recorded');
  // Its failure is the first of a new streak, not the 0.5 s old one that disabled the endpoint.
  const after = await call(acme, 'GET', `/v1/webhooks/endpoints/${id}`);
  expect(after.body).toMatchObject({ enabled: true, failingSince: expect.any(String) });
});
