/**
 * Careless or hostile input on both sides of the webhooks: API values that Ajv's type
 * coercion would silently give another meaning, URLs nothing can be delivered to, and
 * receivers answering odd Retry-After values or bodies that never end. A real hub (SQLite)
 * and real loopback receivers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoutingClient } from '../routing/testing/routing-client.ts';
import { injectJson } from '../testing/inject-json.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { waitFor } from '../testing/wait-for.ts';
import { MAX_RETRY_AFTER_MS } from './sender/response-outcome.ts';
import { WebhookReceiver } from './testing/webhook-receiver.ts';
import { LOOPBACK_WEBHOOKS } from './testing/loopback-webhooks.ts';

let t: TestHub;
let auth: Record<string, string>;
let receiver: WebhookReceiver;
let routing: RoutingClient;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  t = await startTestHub({
    webhooks: {
      ...LOOPBACK_WEBHOOKS,
      retryScheduleSeconds: [0.05],
      requestTimeoutSeconds: 0.5,
    },
  });
  auth = await t.auth('acme', ['webhooks:write', 'events:publish']);
  routing = new RoutingClient(t);
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

const api = (method: string, url: string, body?: unknown) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read many shapes
  injectJson<any>(t.hub.server, method, url, auth, body);

async function create(
  extra: Record<string, unknown> = {},
): Promise<{ id: string; ruleId: string }> {
  const res = await api('POST', '/v1/webhooks/endpoints', {
    url: 'https://hooks.example.com/in',
    eventTypes: ['billing.>'],
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('values coercion would change', () => {
  it('refuses rateLimitPerSecond 0 or false instead of making the endpoint unlimited', async () => {
    for (const rateLimitPerSecond of [0, false, '0']) {
      const res = await api('POST', '/v1/webhooks/endpoints', {
        url: 'https://hooks.example.com/in',
        rateLimitPerSecond,
      });
      expect(res.status, JSON.stringify(rateLimitPerSecond)).toBe(400);
      expect(res.body.errors[0].pointer).toBe('/rateLimitPerSecond');
    }
    const ep = await create({ rateLimitPerSecond: 5 });
    const patched = await api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, {
      rateLimitPerSecond: 0,
    });
    expect(patched.status).toBe(400);
    expect((await api('GET', `/v1/webhooks/endpoints/${ep.id}`)).body.rateLimitPerSecond).toBe(5);
    // null still means "not limited".
    const unlimited = await api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, {
      rateLimitPerSecond: null,
    });
    expect(unlimited.body.rateLimitPerSecond).toBeNull();
  });

  it('takes graceSeconds: null as the default grace, not as 0 (which retires the old secret at once)', async () => {
    const ep = await create();
    const res = await api('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, {
      graceSeconds: null,
    });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(
      23 * 3_600_000,
    );
  });

  it('rotates a secret on a POST with no body at all (the body is optional)', async () => {
    const ep = await create();
    const res = await t.hub.server.inject({
      method: 'POST',
      url: `/v1/webhooks/endpoints/${ep.id}/rotate-secret`,
      headers: auth,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(Date.parse(res.json().previousSecretExpiresAt) - Date.now()).toBeGreaterThan(
      23 * 3_600_000,
    );
  });

  it('refuses a sixth rotation inside the grace instead of retiring a shown secret early', async () => {
    const ep = await create();
    const rotate = (body: unknown) =>
      api('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, body);
    const shown: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await rotate({ graceSeconds: 3600 + i });
      expect(res.status).toBe(200);
      shown.push(res.body.secret);
    }
    const refused = await rotate({ graceSeconds: 7200 });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('urn:portico:problem:conflict');
    expect(refused.body.detail).toMatch(/"graceSeconds": 0/);
    // The first rotated-out secret (the one made at creation) has the shortest grace left.
    expect(Date.parse(refused.body.retryAt) - Date.now()).toBeGreaterThan(3590_000);
    expect(Date.parse(refused.body.retryAt) - Date.now()).toBeLessThanOrEqual(3600_000);
    // Nothing changed: the newest shown secret signs, and every earlier one still does.
    const keys = (await t.hub.webhooks.endpoints.get(ep.id))!.secrets;
    expect(keys.current.hmac).toBe(shown[4]);
    expect(keys.previous).toHaveLength(5);
    // After a leak: no grace retires them all, so the rotation fits.
    const leaked = await rotate({ graceSeconds: 0 });
    expect(leaked.status).toBe(200);
    expect((await t.hub.webhooks.endpoints.get(ep.id))!.secrets.previous).toEqual([]);
  });

  it('refuses a URL with port 0, naming the field', async () => {
    const res = await api('POST', '/v1/webhooks/endpoints', {
      url: 'https://hooks.example.com:0/in',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({
      pointer: '/url',
      detail: expect.stringMatching(/port/),
    });
  });

  it('stores a URL as it will be contacted, so what is shown is where deliveries go', async () => {
    // A backslash is a path separator in http(s) URLs: the host is a.example, not b.example.
    const created = await create({ url: 'https://A.Example:443/x/../in\\@b.example/' });
    const stored = await api('GET', `/v1/webhooks/endpoints/${created.id}`);
    expect(stored.body.url).toBe('https://a.example/in/@b.example/');
    const patched = await api('PATCH', `/v1/webhooks/endpoints/${created.id}`, {
      url: 'https://bücher.example/hook',
    });
    expect(patched.body.url).toBe('https://xn--bcher-kva.example/hook');
  });
});

/** Publishes one event of `type` for acme; its id. */
async function publish(type: string): Promise<string> {
  const [id] = await routing.publish('acme', [{ type, data: {} }]);
  return id!;
}

/** The event's one delivery to the endpoint, once it is no longer pending. */
async function settled(endpointId: string, eventId: string) {
  return waitFor(async () => {
    const res = await api('GET', `/v1/webhooks/endpoints/${endpointId}/events/${eventId}/attempts`);
    const delivery = res.status === 200 ? res.body.deliveries[0] : undefined;
    return delivery?.status !== undefined && delivery.status !== 'pending' && delivery;
  }, 'the delivery settled');
}

describe('what receivers answer', () => {
  it('ignores a negative or fractional Retry-After (not "retry at once") and records none', async () => {
    receiver.script('/ra-odd', (n) => ({
      status: 503,
      headers: { 'retry-after': n === 1 ? '-1' : '1.5' },
    }));
    const ep = await create({ url: receiver.url('/ra-odd'), eventTypes: ['odd.retry.after'] });
    const eventId = await publish('odd.retry.after');
    const delivery = await settled(ep.id, eventId);
    // Both attempts of the schedule, each judged on it, none with a receiver-asked delay.
    expect(delivery.attempts.map((a: { retryAfterMs: unknown }) => a.retryAfterMs)).toEqual([
      null,
      null,
    ]);
  });

  it('caps a Retry-After of 10^20 seconds: recorded as the cap, and the delivery is dead (max-age)', async () => {
    receiver.script('/ra-huge', () => ({
      status: 503,
      headers: { 'retry-after': '99999999999999999999' },
    }));
    const ep = await create({ url: receiver.url('/ra-huge'), eventTypes: ['huge.retry.after'] });
    const eventId = await publish('huge.retry.after');
    const delivery = await settled(ep.id, eventId);
    expect(delivery.status).toBe('dead');
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({
      statusCode: 503,
      retryAfterMs: MAX_RETRY_AFTER_MS,
    });
  });

  it('a 200 whose body never ends is delivered once (judged by its status), not sent again', async () => {
    let requests = 0;
    const stalling: Server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-length': '100000' }).write('accepted'));
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const port = (stalling.address() as AddressInfo).port;
      const ep = await create({
        url: `http://127.0.0.1:${port}/in`,
        eventTypes: ['stall.body.sent'],
      });
      const eventId = await publish('stall.body.sent');
      const delivery = await settled(ep.id, eventId);
      expect(delivery.status).toBe('delivered');
      expect(delivery.attempts).toEqual([
        expect.objectContaining({ outcome: 'delivered', statusCode: 200, response: 'accepted' }),
      ]);
      expect(requests).toBe(1);
    } finally {
      stalling.closeAllConnections();
      await new Promise((resolve) => stalling.close(resolve));
    }
  });
});
