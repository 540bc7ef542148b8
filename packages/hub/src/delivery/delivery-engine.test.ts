/**
 * The delivery engine's promises, end to end on a test hub: per-target isolation, ordered
 * mode, Retry-After, input transforms, immediate failure, DLQ listing and replay
 * selectors, and platform rules that span tenants without routing their own copies.
 */
import { waitFor } from '../testing/wait-for.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import type { DeliveryTarget } from './delivery-target.ts';
import { HttpPostTarget, HttpReceiver } from '../routing/testing/http-receiver.ts';
import { RoutingClient } from '../routing/testing/routing-client.ts';

let t: TestHub;
let rx: HttpReceiver;
let rc: RoutingClient;

beforeAll(async () => {
  t = await startTestHub();
  rc = new RoutingClient(t);
  rx = await HttpReceiver.start();
  t.hub.routing.targets.register(
    'http',
    new HttpPostTarget(rx.url),
    { concurrency: 2, timeoutMs: 10_000 },
    {
      refField: 'path',
      description: 'a path on the test receiver',
    },
  );
});
afterAll(async () => {
  await t.close();
  await rx.close();
});

const titled = (prefix: string) => ({ data: { title: [{ prefix }] } });
const titles = (path: string) =>
  rx.on(path).map((r) => (r.body['data'] as { title: string }).title);

describe('per-target isolation', () => {
  it('a target that never answers does not delay another target of the same rule', async () => {
    rx.behave('/hangs', () => 'hang');
    await rc.createRule('iso', {
      name: 'both',
      pattern: titled('iso-'),
      targets: [
        { kind: 'http', path: 'hangs' },
        { kind: 'http', path: 'fast' },
      ],
    });
    await rc.publish(
      'iso',
      Array.from({ length: 8 }, (_, i) => ({ data: { title: `iso-${i}` } })),
    );

    await waitFor(() => rx.on('/fast').length === 8, 'all 8 at the fast target');
    // The hanging target holds its own 2 slots (its concurrency) and nothing else.
    expect(rx.on('/hangs').length).toBeLessThanOrEqual(2);
    expect(titles('/fast').sort()).toEqual(Array.from({ length: 8 }, (_, i) => `iso-${i}`).sort());
  });
});

describe('per-destination limits', () => {
  it('caps one destination below its kind, and lets a target defer without spending an attempt', async () => {
    const deferrals = new Map<string, number>();
    let inflight = 0;
    let mostInflight = 0;
    const target: DeliveryTarget = {
      async deliver(d) {
        if (d.target.ref === 'deferring') {
          const n = (deferrals.get(d.id) ?? 0) + 1;
          deferrals.set(d.id, n);
          return n === 1 ? { outcome: 'deferred', delayMs: 10 } : { outcome: 'delivered' };
        }
        inflight++;
        mostInflight = Math.max(mostInflight, inflight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inflight--;
        return { outcome: 'delivered' };
      },
    };
    t.hub.routing.targets.register(
      'paced',
      target,
      { concurrency: 4, concurrencyOf: (ref) => (ref === 'single' ? 1 : undefined) },
      { refField: 'dest', description: 'a test destination' },
    );
    await rc.createRule('paced', {
      name: 'paced',
      pattern: titled('paced-'),
      targets: [
        { kind: 'paced', dest: 'single' },
        { kind: 'paced', dest: 'deferring' },
      ],
    });
    await rc.publish(
      'paced',
      Array.from({ length: 6 }, (_, i) => ({ data: { title: `paced-${i}` } })),
    );
    await waitFor(() => [...deferrals.values()].filter((n) => n === 2).length === 6, 'deferrals');
    for (const id of deferrals.keys()) {
      const d = await rc.deliveryWhen('paced', id, 'delivered');
      expect(d['attempts']).toBe(1);
      const log = (await rc.api('paced', 'GET', `/v1/deliveries/${id}/attempts`)).json();
      expect(log.attempts).toMatchObject([{ attempt: 1, outcome: 'delivered' }]);
    }
    await waitFor(() => inflight === 0 && mostInflight > 0, 'the single destination');
    expect(mostInflight).toBe(1);
  });
});

describe('deferring', () => {
  it('sends a delivery deferred past its maximum age to the DLQ without counting an attempt', async () => {
    let asked = 0;
    t.hub.routing.targets.register(
      'always-later',
      {
        async deliver() {
          asked++;
          return { outcome: 'deferred', delayMs: 0 };
        },
      },
      { retry: { maxAgeMs: 1000 } },
      { refField: 'dest', description: 'a test destination that never has room' },
    );
    const rule = await rc.createRule('later', {
      name: 'later',
      pattern: titled('later'),
      targets: [{ kind: 'always-later', dest: 'x' }],
    });
    await rc.publish('later', [{ data: { title: 'later' } }]);
    const entry = await waitFor(
      async () => (await rc.api('later', 'GET', `/v1/dlq?ruleId=${rule.id}`)).json().entries[0],
      'the DLQ entry',
    );
    expect(entry).toMatchObject({ reason: 'max-age', attempts: 0, lastAttemptAt: null });
    const log = (await rc.api('later', 'GET', `/v1/deliveries/${entry.id}/attempts`)).json();
    expect(log.attempts).toEqual([]);
    // Asked again and again, but with a floor between asks (no spinning): at most
    // 1000 ms / 10 ms + 1 asks, however fast the machine.
    expect(asked).toBeGreaterThan(1);
    expect(asked).toBeLessThanOrEqual(101);
  });
});

describe('ordered mode', () => {
  it('keeps order per partition key, and a failing key blocks only itself', async () => {
    let k1Blocked = true;
    rx.behave('/ordered', (_n, req) => {
      const title = (req.body['data'] as { title: string }).title;
      return { status: title === 'k1-1' && k1Blocked ? 503 : 200 };
    });
    await rc.createRule('ord', {
      name: 'in-order',
      pattern: titled('k'),
      targets: [
        {
          kind: 'http',
          path: 'ordered',
          ordered: true,
          retry: { delaysSeconds: [0.02], maxAttempts: 100 },
        },
      ],
    });
    await rc.publish('ord', [
      { partitionkey: 'k1', data: { title: 'k1-1' } },
      { partitionkey: 'k2', data: { title: 'k2-1' } },
      { partitionkey: 'k1', data: { title: 'k1-2' } },
      { partitionkey: 'k2', data: { title: 'k2-2' } },
      { partitionkey: 'k2', data: { title: 'k2-3' } },
    ]);

    await waitFor(
      () => titles('/ordered').filter((x) => x.startsWith('k2')).length === 3,
      'k2 delivered',
    );
    await waitFor(() => titles('/ordered').filter((x) => x === 'k1-1').length >= 2, 'k1-1 retried');
    expect(titles('/ordered').filter((x) => x.startsWith('k2'))).toEqual(['k2-1', 'k2-2', 'k2-3']);
    expect(titles('/ordered')).not.toContain('k1-2');

    k1Blocked = false;
    await waitFor(() => titles('/ordered').includes('k1-2'), 'k1-2 after k1-1 recovered');
    const k1 = titles('/ordered').filter((x) => x.startsWith('k1'));
    expect(k1[k1.length - 1]).toBe('k1-2');
    expect(k1.slice(0, -1).every((x) => x === 'k1-1')).toBe(true);
  });
});

describe('retries', () => {
  it('honours Retry-After instead of the backoff schedule', async () => {
    rx.behave('/busy', (n) =>
      n === 1
        ? { status: 429, headers: { 'retry-after': '2' }, body: 'slow down' }
        : { status: 200, body: 'ok' },
    );
    // Without Retry-After the next attempt would be an hour away.
    await rc.createRule('ra', {
      name: 'busy',
      pattern: titled('busy'),
      targets: [
        {
          kind: 'http',
          path: 'busy',
          retry: { delaysSeconds: [3600], jitter: 'none', maxAgeSeconds: 7200 },
        },
      ],
    });
    await rc.publish('ra', [{ data: { title: 'busy' } }]);
    await waitFor(() => rx.on('/busy').length === 1, 'the first attempt');
    const id = rx.on('/busy')[0]!.headers['x-delivery-id'] as string;
    const pending = await rc.deliveryWhen('ra', id, 'pending', (d) => d['attempts'] === 1);
    expect(
      Date.parse(pending['nextAttemptAt'] as string) -
        Date.parse(pending['lastAttemptAt'] as string),
    ).toBe(2000);
    expect(pending['lastError']).toBe('HTTP 429 from busy');
    await rc.deliveryWhen('ra', id, 'delivered');
    expect(rx.on('/busy')).toHaveLength(2);

    // The attempt log keeps both attempts, with what the target reported about each.
    const log = (await rc.api('ra', 'GET', `/v1/deliveries/${id}/attempts`)).json();
    expect(log.attempts).toMatchObject([
      {
        replay: 0,
        attempt: 1,
        outcome: 'retry',
        statusCode: 429,
        response: 'slow down',
        error: 'HTTP 429 from busy',
        retryAfterMs: 2000,
        nextAttemptAt: pending['nextAttemptAt'],
        deadReason: null,
      },
      { replay: 0, attempt: 2, outcome: 'delivered', statusCode: 200, response: 'ok', error: null },
    ]);
    for (const a of log.attempts) expect(a.durationMs).toBeGreaterThanOrEqual(0);
    expect((await rc.api('other', 'GET', `/v1/deliveries/${id}/attempts`)).statusCode).toBe(404);
  });

  it('sends an answer the target calls final straight to the DLQ, with its reason', async () => {
    rx.behave('/gone', () => ({ status: 404 }));
    const rule = await rc.createRule('gone', {
      name: 'gone',
      pattern: titled('gone'),
      targets: [{ kind: 'http', path: 'gone' }],
    });
    await rc.publish('gone', [{ data: { title: 'gone' } }]);
    const entry = await waitFor(
      async () => (await rc.api('gone', 'GET', `/v1/dlq?ruleId=${rule.id}`)).json().entries[0],
      'the DLQ entry',
    );
    expect(entry).toMatchObject({
      attempts: 1,
      reason: 'http-404',
      lastError: 'HTTP 404 from gone',
    });
    expect(rx.on('/gone')).toHaveLength(1);
    const log = (await rc.api('gone', 'GET', `/v1/deliveries/${entry.id}/attempts`)).json();
    expect(log.attempts).toMatchObject([
      { attempt: 1, outcome: 'failed', statusCode: 404, deadReason: 'http-404' },
    ]);
  });
});

describe('input transform', () => {
  it('reshapes what a queue receives, keeping the event id and the correlation id', async () => {
    await rc.queue('tx', 'pager');
    await rc.createRule('tx', {
      name: 'pager-text',
      pattern: titled('db'),
      targets: [
        {
          kind: 'queue',
          queue: 'pager',
          inputTransform: {
            paths: { sev: '$.data.severity', svc: '$.data.affected_services[0]', id: '$.id' },
            template: '{"text": "<sev> incident on <svc>", "service": <svc>, "ref": "<id>"}',
          },
        },
        {
          kind: 'http',
          path: 'sms-text',
          inputTransform: { paths: { sev: '$.data.severity' }, template: 'Severity: <sev>' },
        },
      ],
    });
    const [id] = await rc.publish('tx', [
      {
        correlationid: 'corr-42',
        data: { title: 'db down', severity: 'high', affected_services: ['billing', 'auth'] },
      },
    ]);
    const [message] = await rc.collect('tx', 'pager', 1);
    expect(message!.event).toMatchObject({
      id,
      correlationid: 'corr-42',
      type: 'incident.ticket.created',
      datacontenttype: 'application/json',
      data: { text: 'high incident on billing', service: 'billing', ref: id },
    });
    await waitFor(() => rx.on('/sms-text').length === 1, 'the text delivery');
    expect(rx.on('/sms-text')[0]!.headers['x-correlation-id']).toBe('corr-42');
  });
});

describe('the DLQ API', () => {
  it('lists with filters and pages, and replays by target, rule, time range or id', async () => {
    let down = true;
    rx.behave('/dead-end', () => ({ status: down ? 500 : 200 }));
    const rule = await rc.createRule('dlq', {
      name: 'dead-end',
      pattern: titled('dl-'),
      targets: [{ kind: 'http', path: 'dead-end', retry: { maxAttempts: 1 } }],
    });
    await rc.publish(
      'dlq',
      [1, 2, 3, 4].map((i) => ({ data: { title: `dl-${i}` } })),
    );
    await waitFor(
      async () => (await rc.api('dlq', 'GET', '/v1/dlq')).json().entries.length === 4,
      '4 DLQ entries',
    );

    const first = (await rc.api('dlq', 'GET', '/v1/dlq?limit=3')).json();
    expect(first.entries).toHaveLength(3);
    const second = (await rc.api('dlq', 'GET', `/v1/dlq?limit=3&after=${first.next}`)).json();
    expect(second.entries).toHaveLength(1);
    expect(second.next).toBeUndefined();
    const all = [...first.entries, ...second.entries];
    expect(new Set(all.map((e: { id: string }) => e.id)).size).toBe(4);
    expect((await rc.api('dlq', 'GET', '/v1/dlq?kind=queue')).json().entries).toEqual([]);
    expect(
      (await rc.api('dlq', 'GET', '/v1/dlq?kind=http&destination=dead-end')).json().entries,
    ).toHaveLength(4);

    // Ugly selectors are 400s.
    expect((await rc.api('dlq', 'POST', '/v1/dlq/replay', {})).statusCode).toBe(400);
    expect(
      (await rc.api('dlq', 'POST', '/v1/dlq/replay', { since: 'yesterday' })).json().errors[0]
        .pointer,
    ).toBe('/since');
    expect(
      (await rc.api('dlq', 'POST', '/v1/dlq/replay', { targetIndex: 0 })).json().errors[0].pointer,
    ).toBe('/targetIndex');
    expect((await rc.api('dlq', 'GET', '/v1/dlq?after=garbage')).statusCode).toBe(400);
    expect(
      (await rc.api('dlq', 'POST', '/v1/dlq/replay', { id: 'no-such-entry' })).statusCode,
    ).toBe(404);
    expect((await rc.api('dlq', 'POST', '/v1/dlq/replay', { scope: 'platform' })).statusCode).toBe(
      403,
    );

    down = false;
    // A time range that holds nothing replays nothing.
    expect(
      (await rc.api('dlq', 'POST', '/v1/dlq/replay', { until: '2000-01-01T00:00:00Z' })).json(),
    ).toEqual({ replayed: 0, more: false });
    const [one, ...rest] = all as { id: string; deadAt: string }[];
    expect((await rc.api('dlq', 'POST', '/v1/dlq/replay', { id: one!.id })).json()).toEqual({
      replayed: 1,
      more: false,
    });
    await rc.deliveryWhen('dlq', one!.id, 'delivered');
    expect(
      (
        await rc.api('dlq', 'POST', '/v1/dlq/replay', {
          ruleId: rule.id,
          targetIndex: 0,
          since: '2000-01-01T00:00:00Z',
        })
      ).json(),
    ).toEqual({ replayed: rest.length, more: false });
    for (const entry of rest) await rc.deliveryWhen('dlq', entry.id, 'delivered');
    expect((await rc.api('dlq', 'GET', '/v1/dlq')).json().entries).toEqual([]);
    expect(
      (
        await rc.api('dlq', 'POST', '/v1/dlq/replay', { kind: 'http', destination: 'dead-end' })
      ).json(),
    ).toEqual({ replayed: 0, more: false });
  });
});

describe('platform rules', () => {
  it("see every tenant's events, put copies in the event's tenant, and never route their own copies", async () => {
    await rc.queue('north', 'audit');
    await rc.queue('south', 'audit');
    const rule = await rc.createRule(
      'ops',
      {
        name: 'audit-all',
        scope: 'platform',
        pattern: titled('audit'),
        targets: [{ kind: 'queue', queue: 'audit' }],
      },
      ['admin'],
    );
    const [n] = await rc.publish('north', [{ data: { title: 'audit me' } }]);
    const [s] = await rc.publish('south', [{ data: { title: 'audit me too' } }]);
    expect((await rc.collect('north', 'audit', 1)).map((m) => m.event.id)).toEqual([n]);
    expect((await rc.collect('south', 'audit', 1)).map((m) => m.event.id)).toEqual([s]);

    // A sentinel routed after the copies proves the router has seen them: still 2 matches.
    await rc.queue('north', 'sentinel');
    await rc.createRule('north', {
      name: 'sentinel',
      pattern: titled('sentinel'),
      targets: [{ kind: 'queue', queue: 'sentinel' }],
    });
    await rc.publish('north', [{ data: { title: 'sentinel' } }]);
    await rc.collect('north', 'sentinel', 1);
    const metrics = await t.hub.metrics.getSingleMetricAsString('portico_rule_matches_total');
    expect(metrics).toContain(`portico_rule_matches_total{rule="${rule.id}"} 2`);
    expect(await rc.drain('north', 'audit')).toEqual([]);
    expect(await rc.drain('south', 'audit')).toEqual([]);
  });
});

describe('metrics', () => {
  it('exposes matches, match time, attempts by outcome, retries, DLQ depth and lag', async () => {
    const text = await t.hub.metrics.metrics();
    for (const name of [
      'portico_rule_matches_total',
      'portico_rule_match_seconds_bucket',
      'portico_delivery_attempts_total{kind="http",outcome="delivered"}',
      'portico_delivery_retries_total{kind="http"}',
      'portico_dlq_entries_total{owner="tenant:gone",kind="http",target="gone",reason="http-404"} 1',
      'portico_delivery_attempt_seconds_bucket',
      'portico_dlq_depth{owner="tenant:gone",kind="http",target="gone"} 1',
      'portico_delivery_lag_seconds_bucket',
    ])
      expect(text, name).toContain(name);
  });
});
