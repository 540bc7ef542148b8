/**
 * An endpoint's life cycle while deliveries are on their way: changing, disabling,
 * re-enabling and deleting it with retries pending, rotating its secret, recovering and
 * resending, and the failing streak behind auto-disable. What a user can rely on, each
 * shown over HTTP against a real hub (SQLite) and a local receiver.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectJson } from '../testing/inject-json.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { waitFor } from '../testing/wait-for.ts';
import { WebhookReceiver, type ReceivedRequest } from './testing/webhook-receiver.ts';
import { LOOPBACK_WEBHOOKS } from './testing/loopback-webhooks.ts';

let t: TestHub;
let receiver: WebhookReceiver;
let acme: Record<string, string>;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  t = await startTestHub({
    webhooks: {
      ...LOOPBACK_WEBHOOKS,
      retryScheduleSeconds: Array.from({ length: 8 }, () => 0.2),
    },
  });
  acme = await t.auth('acme', ['webhooks:write', 'events:publish', 'events:read', 'rules:write']);
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

const api = (method: string, url: string, body?: unknown, headers = acme) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read many shapes
  injectJson<any>(t.hub.server, method, url, headers, body);

type Created = { id: string; secret: string };

async function createEndpoint(
  path: string,
  type: string,
  extra: Record<string, unknown> = {},
  on = receiver,
): Promise<Created> {
  const res = await api('POST', '/v1/webhooks/endpoints', {
    url: on.url(path),
    eventTypes: [type],
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Created;
}

let seq = 0;
async function publish(type: string, headers = acme, id = `lc-${++seq}`): Promise<string> {
  const res = await t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...headers, 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({ specversion: '1.0', id, source: '/lifecycle', type, data: {} }),
  });
  expect(res.statusCode).toBe(202);
  return id;
}

const verifies = (secret: string, r: ReceivedRequest) => {
  try {
    new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

async function deliveryStatus(endpoint: string, eventId: string): Promise<string | undefined> {
  const res = await api('GET', `/v1/webhooks/endpoints/${endpoint}/events/${eventId}/attempts`);
  return res.status === 200 ? (res.body.deliveries[0].status as string) : undefined;
}

describe('changing an endpoint with deliveries pending', () => {
  it('sends a pending retry to the new URL, signed with the keys of that moment', async () => {
    receiver.script('/moved-from', () => ({ status: 503 }));
    const ep = await createEndpoint('/moved-from', 'moving.url.changed');
    const id = await publish('moving.url.changed');
    await waitFor(() => receiver.on('/moved-from').length === 1, 'the first attempt');

    const moved = await api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, {
      url: receiver.url('/moved-to'),
    });
    expect(moved.status).toBe(200);
    const rotated = await api('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, {
      graceSeconds: 0,
    });

    const retry = await waitFor(() => receiver.on('/moved-to')[0], 'the retry at the new URL');
    expect(JSON.parse(retry.body).id).toBe(id);
    expect(retry.headers['webhook-id']).toBe(receiver.on('/moved-from')[0]!.headers['webhook-id']);
    expect(verifies(rotated.body.secret, retry)).toBe(true);
    expect(verifies(ep.secret, retry)).toBe(false); // retired with grace 0
    await waitFor(async () => (await deliveryStatus(ep.id, id)) === 'delivered', 'delivered');
  });

  it('applies a raised concurrency to the next attempts at once, while one is still running', async () => {
    const own = await WebhookReceiver.start();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    own.script('/c', () => ({ status: 200, hold: held }));
    try {
      const ep = await createEndpoint('/c', 'concurrency.limit.raised', { concurrency: 1 }, own);
      for (let i = 0; i < 3; i++) await publish('concurrency.limit.raised');
      await waitFor(() => own.inflight === 1, 'the first attempt, held');

      const raised = await api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, { concurrency: 3 });
      expect(raised.body.concurrency).toBe(3);
      // The two waiting deliveries start now. (The node kept one slot until the held
      // attempt ended.)
      await waitFor(() => own.inflight === 3, 'three attempts in flight');
    } finally {
      release();
      await own.close();
    }
  });
});

describe('a disabled endpoint', () => {
  it('refuses recover and resend (409) until it is enabled, then both deliver', async () => {
    receiver.script('/paused', () => ({ status: 500 }));
    const ep = await createEndpoint('/paused', 'paused.endpoint.sent');
    const since = new Date(Date.now() - 1000).toISOString();
    const id = await publish('paused.endpoint.sent');
    await waitFor(() => receiver.on('/paused').length === 1, 'the first attempt');
    await api('POST', `/v1/webhooks/endpoints/${ep.id}/disable`);
    // The pending retry goes to the DLQ at its next attempt, and nothing is sent.
    const dlq = await waitFor(async () => {
      const res = await api('GET', `/v1/webhooks/endpoints/${ep.id}/dlq`);
      return res.body.entries.length === 1 && res.body;
    }, 'the DLQ entry');
    expect(dlq.entries[0].reason).toBe('endpoint-disabled');

    // Recovering into a disabled endpoint only sent everything back to the DLQ (202 all the same).
    const recover = await api('POST', `/v1/webhooks/endpoints/${ep.id}/recover`, { since });
    expect(recover.status).toBe(409);
    expect(recover.body.detail).toMatch(/disabled.*enable/);
    const resend = await api('POST', `/v1/webhooks/endpoints/${ep.id}/events/${id}/resend`);
    expect(resend.status).toBe(409);
    expect((await api('GET', `/v1/webhooks/endpoints/${ep.id}/dlq`)).body.entries).toHaveLength(1);

    receiver.script('/paused', () => ({ status: 200 }));
    await api('POST', `/v1/webhooks/endpoints/${ep.id}/enable`);
    expect(await api('POST', `/v1/webhooks/endpoints/${ep.id}/recover`, { since })).toEqual({
      status: 202,
      body: { recovered: 1, more: false },
    });
    await waitFor(async () => (await deliveryStatus(ep.id, id)) === 'delivered', 'delivered');
    expect(receiver.on('/paused')).toHaveLength(2);
  });
});

describe('resend', () => {
  it('is 409 while any delivery of the event to the endpoint is pending (no second request with its webhook-id racing it)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // Two rules send the event to the endpoint: its own, and this one. One of the two
    // deliveries is answered at once, the other is held.
    receiver.script('/twice', (n) => (n === 1 ? { status: 200 } : { status: 200, hold: held }));
    const ep = await createEndpoint('/twice', 'twice.routed.sent');
    const rule = await api('POST', '/v1/rules', {
      name: 'also-to-twice',
      pattern: { type: ['twice.routed.sent'] },
      targets: [{ kind: 'webhook', endpointId: ep.id }],
    });
    expect(rule.status).toBe(201);
    try {
      const id = await publish('twice.routed.sent');
      await waitFor(() => receiver.on('/twice').length === 2, 'both deliveries under way');
      await waitFor(async () => {
        const res = await api('GET', `/v1/webhooks/endpoints/${ep.id}/events/${id}/attempts`);
        return res.body.deliveries.some((d: { status: string }) => d.status === 'delivered');
      }, 'one of them delivered');

      const res = await api('POST', `/v1/webhooks/endpoints/${ep.id}/events/${id}/resend`);
      expect(res.status).toBe(409);
      expect(res.body.detail).toMatch(/pending/);
      expect(receiver.on('/twice')).toHaveLength(2);
    } finally {
      release();
      await api('DELETE', `/v1/rules/${rule.body.id}`);
    }
  });

  it("of an event never delivered to this endpoint, or of another tenant's event, is 404", async () => {
    const globex = await t.auth('globex', ['webhooks:write', 'events:publish']);
    const ep = await createEndpoint('/mine', 'shared.id.sent');
    const theirs = await api(
      'POST',
      '/v1/webhooks/endpoints',
      { url: receiver.url('/theirs'), eventTypes: ['shared.id.sent'] },
      globex,
    );
    expect(theirs.status).toBe(201);
    await publish('shared.id.sent', globex, 'same-id');
    await waitFor(() => receiver.on('/theirs').length === 1, "the other tenant's delivery");
    await publish('unrelated.event.sent', acme, 'not-routed-here');
    for (const eventId of ['same-id', 'not-routed-here', 'never-published']) {
      const res = await api('POST', `/v1/webhooks/endpoints/${ep.id}/events/${eventId}/resend`);
      expect(res.status, eventId).toBe(404);
    }
  });
});

describe('deleting an endpoint', () => {
  it('ends its pending retries, and a new endpoint with the same URL starts clean', async () => {
    receiver.script('/deleted', () => ({ status: 500 }));
    const old = await createEndpoint('/deleted', 'deleted.endpoint.sent');
    const id = await publish('deleted.endpoint.sent');
    await waitFor(async () => {
      const res = await api('GET', `/v1/webhooks/endpoints/${old.id}/events/${id}/attempts`);
      return res.status === 200 && res.body.deliveries[0]?.attempts.length === 1;
    }, 'the first attempt recorded (its retry pending)');
    expect((await api('DELETE', `/v1/webhooks/endpoints/${old.id}`)).status).toBe(204);
    // The retry is not sent: it is in the tenant's DLQ as endpoint-not-found as soon as the
    // delete has answered, not when it would have come due.
    const dead = (await api('GET', '/v1/dlq')).body.entries.find(
      (e: { event: { id: string } }) => e.event.id === id,
    );
    expect(dead?.reason).toBe('endpoint-not-found');
    const fresh = await createEndpoint('/deleted', 'deleted.endpoint.sent');
    expect(receiver.on('/deleted')).toHaveLength(1);
    for (const path of ['dlq', 'attempts', `events/${id}/attempts`])
      expect((await api('GET', `/v1/webhooks/endpoints/${old.id}/${path}`)).status).toBe(404);
    // The new endpoint neither sees the old one's deliveries nor can recover them.
    expect((await api('GET', `/v1/webhooks/endpoints/${fresh.id}/dlq`)).body.entries).toEqual([]);
    expect((await api('GET', `/v1/webhooks/endpoints/${fresh.id}/attempts`)).body.attempts).toEqual(
      [],
    );
    expect(
      await api('POST', `/v1/webhooks/endpoints/${fresh.id}/recover`, {
        since: '2000-01-01T00:00:00Z',
      }),
    ).toEqual({ status: 202, body: { recovered: 0, more: false } });
    expect(
      (await api('POST', `/v1/webhooks/endpoints/${fresh.id}/events/${id}/resend`)).status,
    ).toBe(404);
  });
});

describe('tenant isolation', () => {
  it("answers another tenant's endpoint id on every route exactly like an unknown id", async () => {
    const ep = await createEndpoint('/isolated', 'isolated.endpoint.sent');
    const globex = await t.auth('globex', ['webhooks:write']);
    const routes: [string, string, unknown?][] = [
      ['GET', ''],
      ['PATCH', '', { description: 'x' }],
      ['DELETE', ''],
      ['POST', '/enable'],
      ['POST', '/disable'],
      ['POST', '/rotate-secret', {}],
      ['GET', '/attempts'],
      ['GET', '/dlq'],
      ['POST', '/recover', { since: '2000-01-01T00:00:00Z' }],
      ['GET', '/events/x/attempts'],
      ['POST', '/events/x/resend'],
    ];
    for (const [method, path, body] of routes) {
      const theirs = await api(method, `/v1/webhooks/endpoints/${ep.id}${path}`, body, globex);
      const unknown = await api(method, `/v1/webhooks/endpoints/ep_unknown${path}`, body, globex);
      expect([theirs.status, unknown.status], `${method} ${path}`).toEqual([404, 404]);
      expect(theirs.body.detail.replace(ep.id, 'ep_unknown')).toBe(unknown.body.detail);
    }
    expect((await api('GET', `/v1/webhooks/endpoints/${ep.id}`)).body.description).toBe('');
  });
});
