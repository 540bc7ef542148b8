/**
 * The routing issue's acceptance scenario, end to end over HTTP on a real (SQLite) hub:
 * incidents routed by severity to an on-call queue and an SMS-gateway-like HTTP target,
 * every incident to a general feed; retries, the DLQ and replay; tenant isolation.
 */
import { waitFor } from '../testing/wait-for.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { HttpPostTarget, HttpReceiver } from './testing/http-receiver.ts';
import { RoutingClient } from './testing/routing-client.ts';

let t: TestHub;
let sms: HttpReceiver;
let rc: RoutingClient;

beforeAll(async () => {
  t = await startTestHub();
  rc = new RoutingClient(t);
  sms = await HttpReceiver.start();
  t.hub.routing.targets.register(
    'sms',
    new HttpPostTarget(sms.url),
    { concurrency: 2, timeoutMs: 5000 },
    {
      refField: 'gateway',
      description: 'the SMS gateway (a path on the test receiver)',
    },
  );
});
afterAll(async () => {
  await t.close();
  await sms.close();
});

let seq = 0;
/** Publishes one incident; returns its id. */
async function incident(tenant: string, severity: string, extra: Record<string, unknown> = {}) {
  const id = `inc-${++seq}`;
  await rc.publish(tenant, [
    {
      id,
      source: '/incidents',
      data: { severity, affected_services: ['billing', 'auth'], title: `incident ${id}` },
      ...extra,
    },
  ]);
  return id;
}

const HIGH = { type: ['incident.ticket.created'], data: { severity: ['high', 'critical'] } };
const EVERY_INCIDENT = { type: [{ prefix: 'incident.' }] };

describe('acceptance: incidents routed by severity', () => {
  it('routes a high incident to on-call, SMS and the feed; a low one only to the feed; tenant B sees neither', async () => {
    await rc.queue('acme', 'oncall');
    await rc.queue('acme', 'feed');
    await rc.queue('globex', 'incidents');
    await rc.createRule('acme', {
      name: 'page-on-call',
      pattern: HIGH,
      targets: [
        { kind: 'queue', queue: 'oncall' },
        { kind: 'sms', gateway: 'sms-acme' },
      ],
    });
    await rc.createRule('acme', {
      name: 'general-feed',
      pattern: EVERY_INCIDENT,
      targets: [{ kind: 'queue', queue: 'feed' }],
    });
    const globexRule = await rc.createRule('globex', {
      name: 'all-incidents',
      pattern: EVERY_INCIDENT,
      targets: [{ kind: 'queue', queue: 'incidents' }],
    });

    const high = await incident('acme', 'high');
    const low = await incident('acme', 'low');

    const feed = await rc.collect('acme', 'feed', 2);
    expect(feed.map((m) => m.event.id).sort()).toEqual([high, low].sort());
    expect(
      feed.every(
        (m) => m.topic === 'portico.dev.queue.feed' && m.event.type === 'incident.ticket.created',
      ),
    ).toBe(true);
    const oncall = await rc.collect('acme', 'oncall', 1);
    expect(oncall.map((m) => m.event.id)).toEqual([high]);
    await waitFor(() => sms.on('/sms-acme').length === 1, 'the SMS');
    expect(sms.on('/sms-acme')[0]!.body).toMatchObject({ id: high, data: { severity: 'high' } });

    // Tenant B's rule matches every incident, yet saw none of acme's: its own incident
    // arrives alone.
    const own = await incident('globex', 'low');
    expect((await rc.collect('globex', 'incidents', 1)).map((m) => m.event.id)).toEqual([own]);
    // It matched that one event only (a leak would also show as copies in acme's tenant).
    expect(await t.hub.metrics.getSingleMetricAsString('portico_rule_matches_total')).toMatch(
      new RegExp(`^portico_rule_matches_total\\{rule="${globexRule.id}"\\} 1$`, 'm'),
    );
    // Nothing more anywhere: the low incident never reached on-call or the SMS gateway.
    expect(await rc.drain('acme', 'oncall')).toEqual([]);
    expect(await rc.drain('acme', 'feed')).toEqual([]);
    expect(sms.on('/sms-acme')).toHaveLength(1);
  });

  it('a target that fails 3 times gets the event once more on attempt 4, with the same ids', async () => {
    sms.behave('/flaky', (n) => ({ status: n <= 3 ? 503 : 200 }));
    await rc.createRule('acme', {
      name: 'flaky-sms',
      pattern: { type: ['incident.ticket.created'], data: { title: [{ suffix: 'flaky' }] } },
      targets: [
        { kind: 'sms', gateway: 'flaky', retry: { delaysSeconds: [0.01, 0.01, 0.01, 0.01] } },
      ],
    });
    const id = await incident('acme', 'critical', {
      data: { severity: 'critical', title: 'very flaky' },
    });

    await waitFor(() => sms.on('/flaky').length === 4, 'four attempts');
    const attempts = sms.on('/flaky');
    expect(attempts.map((r) => r.headers['x-attempt'])).toEqual(['1', '2', '3', '4']);
    expect(new Set(attempts.map((r) => r.headers['x-event-id']))).toEqual(new Set([id]));
    expect(new Set(attempts.map((r) => r.headers['x-delivery-id'])).size).toBe(1);
    const deliveryId = attempts[0]!.headers['x-delivery-id'] as string;
    const state = await waitFor(async () => {
      const d = (await rc.api('acme', 'GET', `/v1/deliveries/${deliveryId}`)).json();
      return d.status === 'delivered' ? d : undefined;
    }, 'the delivery to be recorded');
    expect(state).toMatchObject({ attempts: 4, lastError: null, rule: { name: 'flaky-sms' } });
    expect(sms.on('/flaky')).toHaveLength(4);
  });

  it('a target that always fails ends in the DLQ, and a replay after it recovers delivers it', async () => {
    let down = true;
    sms.behave('/down', () => ({ status: down ? 500 : 202 }));
    const rule = await rc.createRule('acme', {
      name: 'down-sms',
      pattern: { data: { title: [{ suffix: 'down' }] } },
      targets: [{ kind: 'sms', gateway: 'down', retry: { delaysSeconds: [0.01, 0.01] } }],
    });
    const id = await incident('acme', 'high', {
      data: { severity: 'high', title: 'gateway down' },
    });

    const entry = await waitFor(
      async () => (await rc.api('acme', 'GET', `/v1/dlq?ruleId=${rule.id}`)).json().entries[0],
      'the DLQ entry',
    );
    expect(entry).toMatchObject({
      status: 'dead',
      attempts: 3,
      reason: 'max-attempts',
      lastError: 'HTTP 500 from down',
      rule: { id: rule.id, name: 'down-sms' },
      target: { index: 0, kind: 'sms', destination: 'down' },
      event: { id, type: 'incident.ticket.created', data: { severity: 'high' } },
    });
    expect(sms.on('/down')).toHaveLength(3);
    // Another tenant sees nothing of it and cannot replay it.
    expect((await rc.api('globex', 'GET', '/v1/dlq')).json().entries).toEqual([]);
    expect((await rc.api('globex', 'POST', '/v1/dlq/replay', { id: entry.id })).statusCode).toBe(
      404,
    );

    down = false;
    const replay = await rc.api('acme', 'POST', '/v1/dlq/replay', { id: entry.id });
    expect(replay.json()).toEqual({ replayed: 1, more: false });
    await waitFor(() => sms.on('/down').length === 4, 'the replayed delivery');
    expect(sms.on('/down')[3]!.headers).toMatchObject({
      'x-event-id': id,
      'x-delivery-id': entry.id,
      'x-attempt': '1',
    });
    const after = await waitFor(async () => {
      const d = (await rc.api('acme', 'GET', `/v1/deliveries/${entry.id}`)).json();
      return d.status === 'delivered' ? d : undefined;
    }, 'the replay to be recorded');
    expect(after).toMatchObject({ replays: 1, attempts: 1 });
    expect((await rc.api('acme', 'GET', `/v1/dlq?ruleId=${rule.id}`)).json().entries).toEqual([]);
  });
});
