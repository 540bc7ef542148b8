/**
 * The webhooks capability end to end: the Endpoints API, routing through the one delivery
 * engine, Standard Webhooks signatures checked by the `standardwebhooks` library (and once
 * by `svix`), retries, Retry-After, redirects, 410, the DLQ, recover and resend, rotation,
 * per-endpoint limits and isolation. A real hub (SQLite) and a real local receiver.
 */
import { waitFor } from '../testing/wait-for.ts';
import { verify as verifyEd25519 } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { decodeEd25519PublicKey } from './signing/secrets.ts';
import { WebhookReceiver, type ReceivedRequest } from './testing/webhook-receiver.ts';
import { LOOPBACK_WEBHOOKS } from './testing/loopback-webhooks.ts';

let t: TestHub;
let receiver: WebhookReceiver;
let auth: { authorization: string };

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  t = await startTestHub({
    webhooks: {
      ...LOOPBACK_WEBHOOKS,
      retryScheduleSeconds: [0.05, 0.05, 0.05],
    },
  });
  auth = await t.auth('acme', ['webhooks:write', 'events:publish', 'events:read']);
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

type Created = { id: string; secret: string; ed25519PublicKey?: string; ruleId: string };

async function api(method: string, url: string, body?: unknown, headers = auth) {
  const res = await t.hub.server.inject({
    method: method as 'GET',
    url,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read many shapes
  const parsed: any = res.body ? JSON.parse(res.body) : undefined;
  return { status: res.statusCode, body: parsed };
}

async function createEndpoint(path: string, extra: Record<string, unknown> = {}): Promise<Created> {
  const res = await api('POST', '/v1/webhooks/endpoints', {
    url: receiver.url(path),
    eventTypes: ['billing.>'],
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  secretsByPath.set(path, [...(secretsByPath.get(path) ?? []), (res.body as Created).secret]);
  return res.body as Created;
}

/** Every secret an endpoint of the shared receiver ever had, by path (see the last test). */
const secretsByPath = new Map<string, string[]>();

let seq = 0;
async function publish(type = 'billing.invoice.paid', data: unknown = { amount: 42 }, id?: string) {
  const eventId = id ?? `evt-${++seq}`;
  const res = await t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth, 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({ specversion: '1.0', id: eventId, source: '/test', type, data }),
  });
  expect(res.statusCode).toBe(202);
  return eventId;
}

/** Verifies with standardwebhooks and returns the parsed CloudEvent. */
function verified(secret: string, r: ReceivedRequest): Record<string, unknown> {
  return new StandardWebhook(secret).verify(r.body, r.headers as Record<string, string>) as Record<
    string,
    unknown
  >;
}

describe('endpoints API', () => {
  it('creates an endpoint, shows the secret once, and never again', async () => {
    const created = await createEndpoint('/api-1', { description: 'billing system' });
    expect(created.id).toMatch(/^ep_[A-Za-z0-9]{22}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(created.secret.slice(6), 'base64').length).toBe(32);
    const got = await api('GET', `/v1/webhooks/endpoints/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: created.id, enabled: true, eventTypes: ['billing.>'] });
    expect(JSON.stringify(got.body)).not.toContain(created.secret.slice(6));
    const list = await api('GET', '/v1/webhooks/endpoints');
    expect(list.body.endpoints.map((e: { id: string }) => e.id)).toContain(created.id);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    // It is a routing rule of the tenant, with a webhook target.
    const rule = await api(
      'GET',
      `/v1/rules/${created.ruleId}`,
      undefined,
      await t.auth('acme', ['events:read']),
    );
    expect(rule.body.targets).toEqual([
      { kind: 'webhook', endpointId: created.id, ordered: false },
    ]);
  });

  it('refuses bad input with a problem naming each field, and writes nothing', async () => {
    const before = (await api('GET', '/v1/webhooks/endpoints')).body.endpoints.length;
    const res = await api('POST', '/v1/webhooks/endpoints', {
      url: 'ftp://example.com/hook',
      eventTypes: ['billing', 'Billing.x.y', 'a.b.c.>'],
      filter: { type: ['x'] },
    });
    expect(res.status).toBe(400);
    const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining([
        '/url',
        '/eventTypes/0',
        '/eventTypes/1',
        '/eventTypes/2',
        '/filter/type',
      ]),
    );
    for (const url of [
      'http://user:pw@127.0.0.1/x',
      'http://10.0.0.1/x',
      'http://[::ffff:169.254.169.254]/x',
      'not a url',
    ]) {
      const r = await api('POST', '/v1/webhooks/endpoints', { url });
      expect(r.status, url).toBe(400);
      expect(r.body.errors[0].pointer).toBe('/url');
    }
    const badFilter = await api('POST', '/v1/webhooks/endpoints', {
      url: receiver.url('/x'),
      filter: { data: { n: [{ numeric: ['>'] }] } },
    });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.errors[0].pointer).toMatch(/^\/filter\/data\/n/);
    expect((await api('GET', '/v1/webhooks/endpoints')).body.endpoints.length).toBe(before);
  });

  it('is described in /openapi.json with its scope', async () => {
    const res = await t.hub.server.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ paths: Record<string, Record<string, { security?: unknown }>> }>();
    expect(doc.paths['/v1/webhooks/endpoints']?.['post']?.security).toEqual([
      { bearer: ['webhooks:write'] },
    ]);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/v1/webhooks/'))).toHaveLength(10);
  });

  it('is tenant-scoped and needs webhooks:write', async () => {
    const created = await createEndpoint('/api-2');
    const other = await t.auth('globex', ['webhooks:write']);
    expect(
      (await api('GET', `/v1/webhooks/endpoints/${created.id}`, undefined, other)).status,
    ).toBe(404);
    expect(
      (await api('DELETE', `/v1/webhooks/endpoints/${created.id}`, undefined, other)).status,
    ).toBe(404);
    expect(
      (await api('GET', '/v1/webhooks/endpoints', undefined, other)).body.endpoints.map(
        (e: { id: string }) => e.id,
      ),
    ).not.toContain(created.id);
    const reader = await t.auth('acme', ['events:read']);
    expect((await api('GET', '/v1/webhooks/endpoints', undefined, reader)).status).toBe(403);
  });

  it('keeps the rule in step on update, disable and delete', async () => {
    const created = await createEndpoint('/api-3', { eventTypes: ['orders.order.created'] });
    await publish('billing.invoice.paid');
    const patched = await api('PATCH', `/v1/webhooks/endpoints/${created.id}`, {
      eventTypes: ['billing.*.refunded'],
      filter: { data: { amount: [{ numeric: ['>', 10] }] } },
    });
    expect(patched.status).toBe(200);
    await publish('billing.invoice.refunded', { amount: 5 }); // filtered out
    const wanted = await publish('billing.invoice.refunded', { amount: 50 });
    const got = await waitFor(() => receiver.on('/api-3')[0], 'the refund');
    expect(JSON.parse(got.body).id).toBe(wanted);
    expect((await api('POST', `/v1/webhooks/endpoints/${created.id}/disable`)).body.enabled).toBe(
      false,
    );
    const rules = await t.auth('acme', ['events:read']);
    expect((await api('GET', `/v1/rules/${created.ruleId}`, undefined, rules)).body.enabled).toBe(
      false,
    );
    expect((await api('POST', `/v1/webhooks/endpoints/${created.id}/enable`)).body.enabled).toBe(
      true,
    );
    expect((await api('DELETE', `/v1/webhooks/endpoints/${created.id}`)).status).toBe(204);
    expect((await api('GET', `/v1/rules/${created.ruleId}`, undefined, rules)).status).toBe(404);
    expect(receiver.on('/api-3')).toHaveLength(1);
  });
});

describe('reconcile (at start)', () => {
  it('recreates a missing endpoint rule and removes rules of endpoints that are gone', async () => {
    const rules = await t.auth('acme', ['rules:write', 'events:read']);
    const ep = await createEndpoint('/rec-1', { eventTypes: ['recon.test.sent'] });
    expect((await api('DELETE', `/v1/rules/${ep.ruleId}`, undefined, rules)).status).toBe(204);
    const orphan = await api(
      'POST',
      '/v1/rules',
      {
        name: 'webhook-endpoint.ep_gone',
        pattern: { type: ['recon.test.sent'] },
        targets: [{ kind: 'webhook', endpointId: 'ep_gone' }],
      },
      rules,
    );
    expect(orphan.status).toBe(201);
    await t.hub.webhooks.start();
    const repaired = (await api('GET', `/v1/webhooks/endpoints/${ep.id}`)).body;
    expect(repaired.ruleId).not.toBe(ep.ruleId);
    expect((await api('GET', `/v1/rules/${repaired.ruleId}`, undefined, rules)).status).toBe(200);
    expect((await api('GET', `/v1/rules/${orphan.body.id}`, undefined, rules)).status).toBe(404);
    const id = await publish('recon.test.sent');
    const got = await waitFor(() => receiver.on('/rec-1')[0], 'a delivery after the repair');
    expect(verified(ep.secret, got).id).toBe(id);
  });
});

describe('delivery', () => {
  it('POSTs the CloudEvent in structured JSON with Standard Webhooks headers that both libraries verify', async () => {
    const ep = await createEndpoint('/d-1');
    const id = await publish('billing.invoice.paid', { amount: 42, note: 'é✓' });
    const r = await waitFor(() => receiver.on('/d-1')[0], 'the delivery');
    expect(r.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(r.headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9_-]+$/);
    expect(r.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const event = verified(ep.secret, r);
    expect(event).toMatchObject({
      specversion: '1.0',
      id,
      source: '/test',
      type: 'billing.invoice.paid',
      tenantid: 'acme',
      data: { amount: 42, note: 'é✓' },
    });
    expect(new SvixWebhook(ep.secret).verify(r.body, r.headers as Record<string, string>)).toEqual(
      event,
    );
    // Another secret, a changed body and a stale timestamp all fail.
    const other = await createEndpoint('/d-unused', { eventTypes: ['nothing.at.all'] });
    expect(() => verified(other.secret, r)).toThrow();
    expect(() => verified(ep.secret, { ...r, body: r.body.replace('42', '43') })).toThrow();
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 10 * 60_000);
    try {
      expect(() => verified(ep.secret, r)).toThrow(/timestamp/i);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('retries 503 until it succeeds, with the same webhook-id, every attempt logged and verified', async () => {
    receiver.script('/d-2', (n) =>
      n <= 2 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' },
    );
    const ep = await createEndpoint('/d-2');
    const eventId = await publish();
    await waitFor(() => receiver.on('/d-2').length === 3, 'three attempts');
    const got = receiver.on('/d-2');
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of got) expect(verified(ep.secret, r).id).toBe(eventId);
    const log = await waitFor(async () => {
      const res = await api('GET', `/v1/webhooks/endpoints/${ep.id}/events/${eventId}/attempts`);
      return res.status === 200 && res.body.deliveries[0].status === 'delivered' && res.body;
    }, 'the attempt log');
    expect(log.deliveries[0].attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([
      503, 503, 200,
    ]);
    expect(log.deliveries[0].attempts[0]).toMatchObject({
      outcome: 'retry',
      response: 'busy',
      error: 'HTTP 503',
    });
    expect(log.deliveries[0].attempts[2].durationMs).toBeGreaterThanOrEqual(0);
    const all = await api('GET', `/v1/webhooks/endpoints/${ep.id}/attempts`);
    expect(all.body.attempts).toHaveLength(3);
  });

  it('honours Retry-After', async () => {
    receiver.script('/d-3', (n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 },
    );
    const ep = await createEndpoint('/d-3');
    const eventId = await publish();
    await waitFor(() => receiver.on('/d-3').length === 2, 'the retry');
    const [first, second] = receiver.on('/d-3');
    // The schedule says 50 ms; the receiver asked for a second.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1000);
    const log = await api('GET', `/v1/webhooks/endpoints/${ep.id}/events/${eventId}/attempts`);
    expect(log.body.deliveries[0].attempts[0]).toMatchObject({
      statusCode: 429,
      retryAfterMs: 1000,
    });
  });

  it('never follows a redirect (3xx is a failed attempt)', async () => {
    receiver.script('/d-4', () => ({
      status: 302,
      headers: { location: receiver.url('/d-4-target') },
    }));
    const ep = await createEndpoint('/d-4');
    const eventId = await publish();
    await waitFor(async () => {
      const res = await api('GET', `/v1/webhooks/endpoints/${ep.id}/dlq`);
      return res.body.entries.length === 1;
    }, 'the DLQ entry');
    expect(receiver.on('/d-4')).toHaveLength(4);
    expect(receiver.on('/d-4-target')).toHaveLength(0);
    const log = await api('GET', `/v1/webhooks/endpoints/${ep.id}/events/${eventId}/attempts`);
    expect(log.body.deliveries[0].attempts[0].error).toMatch(/redirects are not followed/);
  });

  it('disables the endpoint on 410 Gone and tells the tenant with an operational event', async () => {
    receiver.script('/d-5', () => ({ status: 410 }));
    const ep = await createEndpoint('/d-5');
    await publish();
    const disabled = await waitFor(async () => {
      const res = await api('GET', `/v1/webhooks/endpoints/${ep.id}`);
      return res.body.enabled === false && res.body;
    }, 'the endpoint disabled');
    expect(disabled.disabledReason).toBe('gone');
    // The notice is appended right after the endpoint is disabled, not in the same write.
    const notice = await waitFor(async () => {
      const events = await api('GET', '/v1/events?topic=portico.>');
      return events.body.events.find(
        (e: { event: { subject?: string } }) => e.event.subject === ep.id,
      );
    }, 'the endpoint-disabled notice');
    expect(notice.event).toMatchObject({
      type: 'portico.webhook.endpoint-disabled',
      tenantid: 'acme',
      data: { endpointId: ep.id, reason: 'gone' },
    });
    // The endpoint is disabled while the attempt is still running; the delivery's DLQ
    // record is committed right after (with the other settles of that moment).
    const dlq = await waitFor(async () => {
      const res = await api('GET', `/v1/webhooks/endpoints/${ep.id}/dlq`);
      return res.body.entries.length === 1 && res.body;
    }, 'the DLQ entry');
    expect(dlq.entries[0].reason).toBe('http-410');
    // While disabled nothing is routed to it.
    await publish();
    expect(receiver.on('/d-5')).toHaveLength(1);
  });

  it('retries into the DLQ, and recover delivers it with the same webhook-id', async () => {
    let healthy = false;
    receiver.script('/d-6', () => (healthy ? { status: 200 } : { status: 500 }));
    const ep = await createEndpoint('/d-6');
    const since = new Date(Date.now() - 1000).toISOString();
    const ids = [await publish(), await publish()];
    const dlq = await waitFor(async () => {
      const res = await api('GET', `/v1/webhooks/endpoints/${ep.id}/dlq`);
      return res.body.entries.length === 2 && res.body;
    }, 'two DLQ entries');
    expect(dlq.entries[0]).toMatchObject({ status: 'dead', reason: 'max-attempts', attempts: 4 });
    expect(receiver.on('/d-6')).toHaveLength(8);
    healthy = true;
    const recovered = await api('POST', `/v1/webhooks/endpoints/${ep.id}/recover`, { since });
    expect(recovered).toEqual({ status: 202, body: { recovered: 2, more: false } });
    await waitFor(() => receiver.on('/d-6').length === 10, 'the recovered deliveries');
    for (const id of ids) {
      const forEvent = receiver.on('/d-6').filter((r) => JSON.parse(r.body).id === id);
      expect(forEvent).toHaveLength(5);
      expect(new Set(forEvent.map((r) => r.headers['webhook-id'])).size).toBe(1);
      for (const r of forEvent) verified(ep.secret, r);
    }
    expect((await api('GET', `/v1/webhooks/endpoints/${ep.id}/dlq`)).body.entries).toHaveLength(0);
    const bad = await api('POST', `/v1/webhooks/endpoints/${ep.id}/recover`, {
      since: 'yesterday',
    });
    expect(bad.status).toBe(400);
  });

  it('resends a delivered event with the same webhook-id', async () => {
    const ep = await createEndpoint('/d-7');
    const id = await publish();
    await waitFor(async () => {
      const res = await api('GET', `/v1/webhooks/endpoints/${ep.id}/events/${id}/attempts`);
      return res.status === 200 && res.body.deliveries[0].status === 'delivered';
    }, 'the delivery');
    const res = await api('POST', `/v1/webhooks/endpoints/${ep.id}/events/${id}/resend`);
    expect(res.status).toBe(202);
    await waitFor(() => receiver.on('/d-7').length === 2, 'the resend');
    const [a, b] = receiver.on('/d-7');
    expect(b!.headers['webhook-id']).toBe(a!.headers['webhook-id']);
    verified(ep.secret, b!);
    expect((await api('POST', `/v1/webhooks/endpoints/${ep.id}/events/nope/resend`)).status).toBe(
      404,
    );
  });

  it('signs with the old and the new secret during a rotation, then with the new one only', async () => {
    const ep = await createEndpoint('/d-8');
    const rotated = await api('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, {});
    secretsByPath.get('/d-8')!.push(rotated.body.secret);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(ep.secret);
    await publish();
    const during = await waitFor(() => receiver.on('/d-8')[0], 'a delivery during the grace');
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    verified(ep.secret, during);
    verified(rotated.body.secret, during);
    const view = await api('GET', `/v1/webhooks/endpoints/${ep.id}`);
    expect(Date.parse(view.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(
      23 * 3_600_000,
    );

    const again = await api('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, {
      graceSeconds: 0,
    });
    secretsByPath.get('/d-8')!.push(again.body.secret);
    await publish();
    const after = await waitFor(() => receiver.on('/d-8')[1], 'a delivery after');
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    verified(again.body.secret, after);
    expect(() => verified(rotated.body.secret, after)).toThrow();
  });

  it('adds an ed25519 (v1a) signature for endpoints that ask for it', async () => {
    const ep = await createEndpoint('/d-9', { ed25519: true });
    expect(ep.ed25519PublicKey).toMatch(/^whpk_/);
    await publish();
    const r = await waitFor(() => receiver.on('/d-9')[0], 'the delivery');
    verified(ep.secret, r);
    const v1a = String(r.headers['webhook-signature'])
      .split(' ')
      .find((s) => s.startsWith('v1a,'))!;
    const content = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`;
    expect(
      verifyEd25519(
        null,
        Buffer.from(content),
        decodeEd25519PublicKey(ep.ed25519PublicKey!),
        Buffer.from(v1a.slice(4), 'base64'),
      ),
    ).toBe(true);
  });

  it("keeps to an endpoint's concurrency and rate limit without spending attempts", async () => {
    const path = '/d-10';
    const local = await WebhookReceiver.start();
    try {
      local.script(path, () => ({ status: 200, delayMs: 30 }));
      const res = await api('POST', '/v1/webhooks/endpoints', {
        url: local.url(path),
        eventTypes: ['limits.test.sent'],
        concurrency: 1,
        rateLimitPerSecond: 20,
      });
      expect(res.status).toBe(201);
      for (let i = 0; i < 12; i++) await publish('limits.test.sent');
      await waitFor(() => local.on(path).length === 12, 'twelve deliveries');
      expect(local.maxInflight).toBe(1);
      const attempts = await waitFor(async () => {
        const r = await api('GET', `/v1/webhooks/endpoints/${res.body.id}/attempts`);
        return r.body.attempts.length >= 12 && r;
      }, 'twelve attempt records');
      expect(attempts.body.attempts).toHaveLength(12);
      expect(
        attempts.body.attempts.every((a: { outcome: string }) => a.outcome === 'delivered'),
      ).toBe(true);
    } finally {
      await local.close();
    }
  });

  it('a slow endpoint does not delay a fast one', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    receiver.script('/slow', () => ({ status: 200, hold: held }));
    await createEndpoint('/slow', { eventTypes: ['isolation.test.sent'], concurrency: 2 });
    await createEndpoint('/fast', { eventTypes: ['isolation.test.sent'] });
    for (let i = 0; i < 20; i++) await publish('isolation.test.sent');
    // Every event reaches the fast endpoint while the slow one still holds its first answers.
    await waitFor(() => receiver.on('/fast').length === 20, 'the fast endpoint');
    expect(receiver.on('/slow').length).toBeLessThanOrEqual(2);
    release();
    await waitFor(
      () => receiver.on('/slow').length === 20,
      'the slow endpoint, once released',
      20_000,
    );
  });
});

describe('every delivery', () => {
  it('that the shared receiver got verifies with standardwebhooks', () => {
    expect(receiver.requests.length).toBeGreaterThan(50);
    for (const r of receiver.requests) {
      const secrets = secretsByPath.get(r.path);
      expect(secrets, r.path).toBeDefined();
      // During a rotation one secret suffices; after a rotation only the newest verifies.
      const ok = secrets!.some((secret) => {
        try {
          verified(secret, r);
          return true;
        } catch {
          return false;
        }
      });
      expect(ok, `${r.path} ${r.headers['webhook-id']}`).toBe(true);
    }
  });
});
