import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import {
  MAX_CONSUMER_GROUPS_PER_TENANT,
  MAX_WAITING_PULLS_PER_TENANT,
} from './consumer-group-routes.ts';
import { waitFor } from '../testing/wait-for.ts';
import { connectionCount } from '../testing/connection-count.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t.close());

type Message = { token: string; deliveryCount: number; event: { id: string } };

async function call(
  tenant: string,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  payload?: unknown,
) {
  return t.hub.server.inject({
    method,
    url,
    headers: await t.auth(tenant, ['events:read', 'events:publish']),
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function publish(tenant: string, ids: string[], type = 'orders.order.placed') {
  const batch = ids.map((id) => ({ specversion: '1.0', id, source: '/cg', type }));
  const res = await t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: {
      ...(await t.auth(tenant, ['events:publish'])),
      'content-type': 'application/cloudevents-batch+json',
    },
    payload: JSON.stringify(batch),
  });
  expect(res.statusCode).toBe(202);
}

/** The hub's URL on a real socket (hang-ups need one), listening from the first call on. */
let listening: Promise<string> | undefined;
const baseUrl = () => (listening ??= t.hub.server.listen({ port: 0, host: '127.0.0.1' }));

const pull = async (tenant: string, group: string, consumer: string, max = 10, waitSeconds = 0) =>
  (
    await call(tenant, 'POST', `/v1/consumer-groups/${group}/pull`, { consumer, max, waitSeconds })
  ).json().messages as Message[];

describe('consumer groups over HTTP', () => {
  it('shares work between two consumers: each event goes to one of them', async () => {
    expect(
      (
        await call('cg', 'PUT', '/v1/consumer-groups/billing', {
          topic: 'orders.>',
          ackWaitSeconds: 30,
          startAt: 'end',
        })
      ).statusCode,
    ).toBe(200);
    await publish('cg', ['o-1', 'o-2', 'o-3', 'o-4']);
    const a = await pull('cg', 'billing', 'worker-a', 2);
    const b = await pull('cg', 'billing', 'worker-b', 10);
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(2);
    expect([...a, ...b].map((m) => m.event.id).sort()).toEqual(['o-1', 'o-2', 'o-3', 'o-4']);
    const acked = await call('cg', 'POST', '/v1/consumer-groups/billing/ack', {
      tokens: [...a, ...b].map((m) => m.token),
    });
    expect(acked.json().results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    expect((await call('cg', 'GET', '/v1/consumer-groups/billing')).json()).toMatchObject({
      pending: 0,
      inflight: 0,
    });
  });

  it('checks that the group exists without counting its lag on pull, ack, nack and term', async () => {
    await call('cg', 'PUT', '/v1/consumer-groups/busy', { topic: 'orders.>', startAt: 'end' });
    await publish('cg', ['busy-1', 'busy-2', 'busy-3']);
    // getGroup counts the group's lag (pending): work a consumer settling each event must
    // not pay for. A lookup says whether the group is there.
    const lagCounts = vi.spyOn(t.hub.log, 'getGroup');
    const lookups = vi.spyOn(t.hub.log, 'hasGroup');
    try {
      const [a, b, c] = await pull('cg', 'busy', 'w');
      for (const [verb, m] of [
        ['ack', a],
        ['nack', b],
        ['term', c],
      ] as const)
        expect(
          (
            await call('cg', 'POST', `/v1/consumer-groups/busy/${verb}`, { tokens: [m!.token] })
          ).json().results,
        ).toEqual([{ token: m!.token, ok: true }]);
      expect(lagCounts).not.toHaveBeenCalled();
      expect(lookups).toHaveBeenCalledTimes(4);
      // A group that is not there is still a 404.
      const missing = await call('cg', 'POST', '/v1/consumer-groups/gone/ack', { tokens: ['x'] });
      expect(missing.statusCode).toBe(404);
    } finally {
      lagCounts.mockRestore();
      lookups.mockRestore();
    }
  });

  it('redelivers an unacked event after the ack deadline', async () => {
    await call('cg', 'PUT', '/v1/consumer-groups/deadline', {
      topic: 'orders.>',
      ackWaitSeconds: 0.2,
      startAt: 'end',
    });
    await publish('cg', ['late-1']);
    const [first] = await pull('cg', 'deadline', 'w1');
    expect(first).toMatchObject({ deliveryCount: 1, event: { id: 'late-1' } });
    const again = await pull('cg', 'deadline', 'w2', 10, 2);
    expect(again.map((m) => [m.event.id, m.deliveryCount])).toEqual([['late-1', 2]]);
    // The first consumer's lease is stale now.
    expect(
      (
        await call('cg', 'POST', '/v1/consumer-groups/deadline/ack', { tokens: [first!.token] })
      ).json().results[0].ok,
    ).toBe(false);
  });

  it('nack with a delay holds the event back, then redelivers it; term stops it for good', async () => {
    await call('cg', 'PUT', '/v1/consumer-groups/retry', {
      topic: 'orders.>',
      ackWaitSeconds: 30,
      startAt: 'end',
    });
    await publish('cg', ['n-1', 't-1']);
    const messages = await pull('cg', 'retry', 'w');
    const n = messages.find((m) => m.event.id === 'n-1')!;
    const term = messages.find((m) => m.event.id === 't-1')!;
    await call('cg', 'POST', '/v1/consumer-groups/retry/nack', {
      tokens: [n.token],
      delaySeconds: 0.3,
    });
    await call('cg', 'POST', '/v1/consumer-groups/retry/term', { tokens: [term.token] });
    expect(await pull('cg', 'retry', 'w')).toEqual([]);
    const redelivered = await pull('cg', 'retry', 'w', 10, 3);
    expect(redelivered.map((m) => m.event.id)).toEqual(['n-1']);
    expect(redelivered[0]!.deliveryCount).toBe(2);
  });

  it('a long-poll returns as soon as an event arrives', async () => {
    await call('cg', 'PUT', '/v1/consumer-groups/poll', { topic: 'orders.>', startAt: 'end' });
    const waiting = pull('cg', 'poll', 'w', 10, 10);
    await new Promise((r) => setTimeout(r, 100));
    await publish('cg', ['wake-1']);
    expect((await waiting).map((m) => m.event.id)).toEqual(['wake-1']);
  });

  it('gives back what a long-poll would have taken for a consumer that hung up', async () => {
    await call('cg', 'PUT', '/v1/consumer-groups/hangup', {
      topic: 'orders.>',
      startAt: 'end',
      ackWaitSeconds: 600,
    });
    const base = await baseUrl();
    const leaving = new AbortController();
    const gone = fetch(`${base}/v1/consumer-groups/hangup/pull`, {
      method: 'POST',
      headers: {
        ...(await t.auth('cg', ['events:read'])),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ consumer: 'leaver', max: 10, waitSeconds: 30 }),
      signal: leaving.signal,
    }).catch(() => 'aborted');
    await waitFor(
      async () => (await connectionCount(t.hub.server.server)) === 1,
      'the long-poll to reach the hub',
    );
    await new Promise((r) => setTimeout(r, 100)); // the pull is waiting for events
    leaving.abort();
    await expect(gone).resolves.toBe('aborted');
    await waitFor(
      async () => (await connectionCount(t.hub.server.server)) === 0,
      'the hub to see the socket close',
    );
    await publish('cg', ['after-hangup']);
    // Without the hang-up seen, the event would sit leased to "leaver" for the 600 s deadline.
    const next = await pull('cg', 'hangup', 'stayer', 10, 5);
    expect(next.map((m) => m.event.id)).toEqual(['after-hangup']);
  });

  it('answers 404, not 500, to a long-poll whose group is deleted while it waits', async () => {
    await call('cg', 'PUT', '/v1/consumer-groups/doomed', { topic: 'orders.>', startAt: 'end' });
    const pulls = vi.spyOn(t.hub.log, 'pull');
    try {
      const waiting = call('cg', 'POST', '/v1/consumer-groups/doomed/pull', {
        consumer: 'w',
        waitSeconds: 30,
      });
      await waitFor(() => pulls.mock.calls.length > 0, 'the pull to reach the event log');
      expect((await call('cg', 'DELETE', '/v1/consumer-groups/doomed')).statusCode).toBe(204);
      const res = await waiting;
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ detail: 'consumer group "doomed" was deleted' });
    } finally {
      pulls.mockRestore();
    }
  });

  it('bounds the long-polls one tenant may have waiting; other tenants and short pulls still pass', async () => {
    await call('greedy', 'PUT', '/v1/consumer-groups/many', { startAt: 'end' });
    await call('modest', 'PUT', '/v1/consumer-groups/one', { startAt: 'end' });
    const pulls = vi.spyOn(t.hub.log, 'pull');
    try {
      const auth = await t.auth('greedy', ['events:read']);
      const waiting = Array.from({ length: MAX_WAITING_PULLS_PER_TENANT }, (_, i) =>
        t.hub.server.inject({
          method: 'POST',
          url: '/v1/consumer-groups/many/pull',
          headers: auth,
          payload: { consumer: `w${i}`, waitSeconds: 30 },
        }),
      );
      await waitFor(
        () => pulls.mock.calls.length === MAX_WAITING_PULLS_PER_TENANT,
        'every pull to wait',
      );
      const over = await call('greedy', 'POST', '/v1/consumer-groups/many/pull', {
        consumer: 'one-more',
        waitSeconds: 5,
      });
      expect(over.statusCode).toBe(429);
      expect(over.json().detail).toContain('long-polling pulls waiting (the limit)');
      expect((await pull('greedy', 'many', 'no-wait', 10, 0)).length).toBe(0);
      expect((await pull('modest', 'one', 'other-tenant', 10, 0.1)).length).toBe(0);
      // Deleting the group ends the waiting pulls, which frees the tenant's allowance.
      await call('greedy', 'DELETE', '/v1/consumer-groups/many');
      expect(new Set((await Promise.all(waiting)).map((r) => r.statusCode))).toEqual(
        new Set([404]),
      );
      await call('greedy', 'PUT', '/v1/consumer-groups/many', { startAt: 'end' });
      expect((await pull('greedy', 'many', 'again', 10, 0.1)).length).toBe(0);
    } finally {
      pulls.mockRestore();
    }
  });

  it("ends the log's pull of a consumer that hung up: it frees its place and spends no delivery", async () => {
    // maxDeliver 1: a lease taken for the consumer that left would use the event up.
    await call('dropper', 'PUT', '/v1/consumer-groups/drop', {
      topic: 'orders.>',
      startAt: 'end',
      maxDeliver: 1,
    });
    const pulls = vi.spyOn(t.hub.log, 'pull');
    try {
      const base = await baseUrl();
      const leaving = new AbortController();
      const gone = fetch(`${base}/v1/consumer-groups/drop/pull`, {
        method: 'POST',
        headers: {
          ...(await t.auth('dropper', ['events:read'])),
          'content-type': 'application/json',
        },
        body: JSON.stringify({ consumer: 'leaver', waitSeconds: 30 }),
        signal: leaving.signal,
      }).catch(() => 'aborted');
      // The router pulls from the same log: pick this test's pulls by consumer.
      const pulledBy = (consumer: RegExp) =>
        pulls.mock.calls.flatMap((call, i) =>
          consumer.test(call[1]) ? [pulls.mock.results[i]!.value as Promise<unknown>] : [],
        );
      const [leaver] = await waitFor(
        () => pulledBy(/^leaver$/).length === 1 && pulledBy(/^leaver$/),
        'the pull to reach the event log',
      );
      let ended = false;
      void leaver!.then(() => (ended = true));
      leaving.abort();
      await expect(gone).resolves.toBe('aborted');
      // Within the 30 s it asked for: the hang-up ended it.
      await waitFor(() => ended, "the log's pull to end");
      await publish('dropper', ['after-drop']);
      const [next] = await pull('dropper', 'drop', 'stayer', 10, 5);
      expect(next).toMatchObject({ event: { id: 'after-drop' }, deliveryCount: 1 });
      // Its place is free: a full allowance of long-polls waits again.
      const auth = await t.auth('dropper', ['events:read']);
      const waiting = Array.from({ length: MAX_WAITING_PULLS_PER_TENANT }, (_, i) =>
        t.hub.server.inject({
          method: 'POST',
          url: '/v1/consumer-groups/drop/pull',
          headers: auth,
          payload: { consumer: `w${i}`, waitSeconds: 30 },
        }),
      );
      await waitFor(
        () => pulledBy(/^w\d+$/).length === MAX_WAITING_PULLS_PER_TENANT,
        'every pull to wait',
      );
      const over = await call('dropper', 'POST', '/v1/consumer-groups/drop/pull', {
        consumer: 'one-more',
        waitSeconds: 0.1,
      });
      expect(over.statusCode).toBe(429);
      expect(over.headers['content-type']).toMatch(/^application\/problem\+json/);
      await call('dropper', 'DELETE', '/v1/consumer-groups/drop'); // ends the waiting pulls
      expect((await Promise.all(waiting)).map((r) => r.statusCode)).toEqual(waiting.map(() => 404));
    } finally {
      pulls.mockRestore();
    }
  });

  it("is tenant-scoped: another tenant's group of the same name sees only its own events", async () => {
    await call('cg-a', 'PUT', '/v1/consumer-groups/shared-name', { startAt: 'end' });
    await call('cg-b', 'PUT', '/v1/consumer-groups/shared-name', { startAt: 'end' });
    await publish('cg-a', ['only-a']);
    expect(await pull('cg-b', 'shared-name', 'w')).toEqual([]);
    expect((await pull('cg-a', 'shared-name', 'w')).map((m) => m.event.id)).toEqual(['only-a']);
    expect((await call('cg-b', 'GET', '/v1/consumer-groups/billing')).statusCode).toBe(404);
  });

  it('answers problems for bad input', async () => {
    expect((await call('cg', 'PUT', '/v1/consumer-groups/bad%20name', {})).statusCode).toBe(400);
    expect((await call('cg', 'PUT', '/v1/consumer-groups/x', { topic: 'a.>.b' })).statusCode).toBe(
      400,
    );
    expect(
      (await call('cg', 'PUT', '/v1/consumer-groups/x', { ackWaitSeconds: -1 })).statusCode,
    ).toBe(400);
    expect(
      (await call('cg', 'POST', '/v1/consumer-groups/missing/pull', { consumer: 'w' })).statusCode,
    ).toBe(404);
    expect(
      (await call('cg', 'POST', '/v1/consumer-groups/billing/ack', { tokens: [] })).statusCode,
    ).toBe(400);
    const noScope = await t.hub.server.inject({
      method: 'GET',
      url: '/v1/consumer-groups/billing',
      headers: await t.auth('cg', ['events:publish']),
    });
    expect(noScope.statusCode).toBe(403);
  });

  it('refuses a name too long for JetStream once the tenant id is encoded', async () => {
    // JetStream names the group's consumer encodeToken(`${tenant}/${name}`): at most 255.
    const tenant = `t${':'.repeat(65)}x`; // 200 characters once encoded, with the "/"
    const res = await call(tenant, 'PUT', `/v1/consumer-groups/${'g'.repeat(56)}`, {});
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      detail: 'path is invalid: /name must be at most 55 characters for this tenant',
      errors: [{ pointer: '/name', in: 'path' }],
    });
    expect(
      (await call(tenant, 'PUT', `/v1/consumer-groups/${'g'.repeat(55)}`, {})).statusCode,
    ).toBe(200);
    const fits = await call('cg', 'PUT', `/v1/consumer-groups/${'g'.repeat(64)}`, {});
    expect(fits.statusCode).toBe(200);
  });

  it('reports consumer lag as a metric', async () => {
    await call('cg', 'PUT', '/v1/consumer-groups/laggy', { topic: 'orders.>', startAt: 'end' });
    await publish('cg', ['lag-1', 'lag-2']);
    const metrics = (await t.hub.server.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/portico_consumer_group_pending\{group="cg\/laggy"\} 2/);
    expect((await call('cg', 'GET', '/v1/consumer-groups/laggy')).json()).toMatchObject({
      pending: 2,
      pendingIsLowerBound: false,
    });
  });

  it('reads the lag of every group at most once per 15 s, however often /metrics is scraped', async () => {
    const lists = vi.spyOn(t.hub.log, 'listGroups');
    try {
      for (let i = 0; i < 5; i++)
        expect((await t.hub.server.inject({ url: '/metrics' })).body).toMatch(
          /portico_consumer_group_pending\{group="cg\/laggy"\}/,
        );
      expect(lists.mock.calls.length).toBeLessThanOrEqual(1);
    } finally {
      lists.mockRestore();
    }
  });

  it('caps the groups of a tenant with a 409 that says so; updates, deletes and other tenants still work', async () => {
    const tenant = 'cg-many';
    for (let i = 0; i < MAX_CONSUMER_GROUPS_PER_TENANT; i++)
      expect((await call(tenant, 'PUT', `/v1/consumer-groups/g-${i}`, {})).statusCode).toBe(200);
    const refused = await call(tenant, 'PUT', '/v1/consumer-groups/one-too-many', {});
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      type: 'urn:portico:problem:conflict',
      detail: `this tenant already has ${MAX_CONSUMER_GROUPS_PER_TENANT} consumer groups (the limit): delete one it no longer uses first`,
      limit: MAX_CONSUMER_GROUPS_PER_TENANT,
    });
    expect((await call(tenant, 'GET', '/v1/consumer-groups/one-too-many')).statusCode).toBe(404);
    // At the limit, an existing group can still be updated; another tenant is not affected.
    expect(
      (await call(tenant, 'PUT', '/v1/consumer-groups/g-0', { maxDeliver: 3 })).json(),
    ).toMatchObject({ maxDeliver: 3 });
    expect((await call('cg-few', 'PUT', '/v1/consumer-groups/g-0', {})).statusCode).toBe(200);
    // Deleting one makes room for another.
    expect((await call(tenant, 'DELETE', '/v1/consumer-groups/g-1')).statusCode).toBe(204);
    expect((await call(tenant, 'PUT', '/v1/consumer-groups/one-too-many', {})).statusCode).toBe(
      200,
    );
  });
});
