import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from './cluster-node.ts';
import { createTestDatabase, NATS, pgAdmin, testStream, type TestDatabase } from './engines.ts';
import { call, metricSum, publish, readAll, sseClient, type Json } from './http.ts';
import { WebhookReceiver } from '../../src/webhooks/testing/webhook-receiver.ts';

// Three hub processes on loopback ports sharing the NATS at :4222 (a stream and subject
// prefix of this run's own) and the PostgreSQL at :5432 (a database of this run's own).
const stream = testStream(NATS, 'three');
let database: TestDatabase;
let cluster: TestCluster;
let receiver: WebhookReceiver;

beforeAll(async () => {
  database = await createTestDatabase('three');
  receiver = await WebhookReceiver.start();
  cluster = new TestCluster({
    natsUrl: NATS,
    stream: stream.stream,
    subjectPrefix: stream.subjectPrefix,
    postgresUrl: database.url,
    // Webhooks to the test's receiver on loopback, retried quickly.
    extra: {
      webhooks: {
        allowHttp: true,
        allowCidrs: ['127.0.0.0/8'],
        retryScheduleSeconds: [0.5, 0.5],
        jitter: 'none',
      },
    },
  });
  // Started together: migrations and stream creation race, as on a real roll-out.
  await Promise.all(['n1', 'n2', 'n3'].map((name) => cluster.startNode(name)));
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  await receiver?.close();
  await stream.delete();
  await database?.drop();
});

const node = (i: number) => cluster.nodes.find((n) => n.name === `n${i}`)!;

describe('three hub nodes on one NATS and one PostgreSQL', () => {
  it('an event published on node 1 reaches a consumer group on node 2 and an SSE client on node 3', async () => {
    const headers = await cluster.headers('acme', ['events:publish', 'events:read']);
    const group = await call(`${node(2).url}/v1/consumer-groups/billing`, 'PUT', headers, {
      topic: 'orders.*.order.>',
    });
    expect(group.status).toBeLessThan(300);
    const sse = sseClient(
      `${node(3).url}/v1/stream?topic=${encodeURIComponent('orders.*.order.>')}`,
      headers.authorization!,
    );
    try {
      await sse.ready;
      const published = await publish(node(1).url, headers, 'o-1', 'orders.order.created', {
        total: 42,
      });
      expect(published.status).toBe(202);
      const [result] = published.body.events as Array<{ position: number; duplicate: boolean }>;
      expect(result!.duplicate).toBe(false);

      const pulled = await call(`${node(2).url}/v1/consumer-groups/billing/pull`, 'POST', headers, {
        consumer: 'worker-a',
        max: 10,
        waitSeconds: 10,
      });
      expect(pulled.status).toBe(200);
      const messages = pulled.body.messages as Array<{
        token: string;
        position: number;
        event: Json;
      }>;
      expect(messages.map((m) => m.event.id)).toEqual(['o-1']);
      expect(messages[0]!.position).toBe(result!.position);
      // The delivery is settled through another node than the one that leased it.
      const acked = await call(`${node(3).url}/v1/consumer-groups/billing/ack`, 'POST', headers, {
        tokens: [messages[0]!.token],
      });
      expect(acked.body.results).toEqual([{ token: messages[0]!.token, ok: true }]);

      await expect
        .poll(() => sse.messages.map((m) => m.event.id), { timeout: 10_000 })
        .toEqual(['o-1']);
      expect(sse.messages[0]!.position).toBe(result!.position);

      // The id index and the dedupe record are shared (PostgreSQL): any node knows the event.
      const byId = await call(`${node(3).url}/v1/events/o-1`, 'GET', headers);
      expect(byId.status).toBe(200);
      const again = await publish(node(2).url, headers, 'o-1', 'orders.order.created', {
        total: 42,
      });
      expect(again.body.events).toEqual([
        expect.objectContaining({ id: 'o-1', duplicate: true, position: result!.position }),
      ]);
    } finally {
      sse.close();
    }
  });

  it('a stream ticket minted on node 1 opens an SSE stream on node 3, once', async () => {
    const headers = await cluster.headers('tix', ['events:publish', 'events:read']);
    const minted = await call(`${node(1).url}/v1/stream/tickets`, 'POST', headers);
    expect(minted.status).toBe(201);
    const ticket = minted.body.ticket as string;
    const url = (n: number) =>
      `${node(n).url}/v1/stream?topic=${encodeURIComponent('tix.*.ticket.>')}&ticket=${encodeURIComponent(ticket)}`;

    // A browser's EventSource: no Authorization header, only the ticket in the URL.
    const source = new EventSource(url(3));
    const ids: string[] = [];
    source.addEventListener('message', (e) => {
      ids.push((JSON.parse(e.data) as { event: { id: string } }).event.id);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        source.addEventListener('ready', () => resolve());
        source.addEventListener('error', (e) =>
          reject(new Error(`SSE error: ${String(e.message)}`)),
        );
      });
      const published = await publish(node(2).url, headers, 't-1', 'tix.ticket.created');
      expect(published.status).toBe(202);
      await expect.poll(() => ids, { timeout: 10_000 }).toEqual(['t-1']);
    } finally {
      source.close();
    }

    // Used: no node takes it again.
    const again = await fetch(url(2));
    expect(again.status).toBe(401);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(await again.text()).toContain('already used');
  });

  it('makes each queue delivery once across the nodes, and every copy reaches the queue consumer', async () => {
    const writer = await cluster.headers('shop', ['events:publish', 'events:read', 'rules:write']);
    const rule = await call(`${node(1).url}/v1/rules`, 'POST', writer, {
      name: 'paid-to-invoicing',
      pattern: { type: ['orders.order.paid'] },
      targets: [{ kind: 'queue', queue: 'invoicing' }],
    });
    expect(rule.status).toBe(201);
    // Other nodes pick a rule change up within a second (routing/README.md); give them that.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const group = await call(`${node(2).url}/v1/consumer-groups/invoicing`, 'PUT', writer, {
      topic: 'portico.*.queue.invoicing',
      startAt: 'beginning',
      ackWaitSeconds: 120,
    });
    expect(group.status).toBeLessThan(300);

    const N = 60;
    const ids = Array.from({ length: N }, (_, i) => `paid-${i}`);
    // Published through every node, eight at a time.
    for (let i = 0; i < N; i += 8)
      await Promise.all(
        ids.slice(i, i + 8).map(async (id, k) => {
          const r = await publish(node(((i + k) % 3) + 1).url, writer, id, 'orders.order.paid');
          expect(r.status).toBe(202);
        }),
      );

    // Consumers on node 2 and node 3 share the queue's group.
    const seen: string[] = [];
    const deadline = Date.now() + 30_000;
    for (let turn = 0; seen.length < N && Date.now() < deadline; turn++) {
      const via = node(turn % 2 === 0 ? 2 : 3).url;
      const pulled = await call(`${via}/v1/consumer-groups/invoicing/pull`, 'POST', writer, {
        consumer: `worker-${turn % 2}`,
        max: 50,
        waitSeconds: 2,
      });
      const messages = pulled.body.messages as Array<{ token: string; event: Json }>;
      seen.push(...messages.map((m) => m.event.id as string));
      if (messages.length > 0)
        await call(`${via}/v1/consumer-groups/invoicing/ack`, 'POST', writer, {
          tokens: messages.map((m) => m.token),
        });
    }
    expect(seen.length).toBe(N);
    expect(new Set(seen)).toEqual(new Set(ids));

    // One attempt per delivery, counted by whichever node made it.
    const attempts = async () => {
      let sum = 0;
      for (const n of cluster.nodes)
        sum += await metricSum(n.url, 'portico_delivery_attempts_total', 'kind="queue"');
      return sum;
    };
    // The copy is visible to consumers just before the attempt is settled and counted.
    await expect.poll(attempts).toBe(N);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await attempts()).toBe(N);
    const [row] = await pgAdmin(
      (c) =>
        c
          .query(
            `select count(*)::int as rows, sum(attempts)::int as attempts,
                    count(*) filter (where status = 'delivered')::int as delivered
               from deliveries where target_kind = 'queue'`,
          )
          .then((r) => r.rows as Array<{ rows: number; attempts: number; delivered: number }>),
      database.name,
    );
    expect(row).toEqual({ rows: N, attempts: N, delivered: N });
    // And the queue holds one copy per event (the log, read through node 1).
    const copies = await readAll(node(1).url, writer, 'portico.*.queue.invoicing');
    expect(copies.map((c) => c.event.id).sort()).toEqual([...ids].sort());
  });

  it('makes each webhook attempt once across the nodes, retries included', async () => {
    const headers = await cluster.headers('hooks', [
      'events:publish',
      'events:read',
      'webhooks:write',
    ]);
    // The first attempt of every third event fails; its retry may be made by any node.
    const attemptsOf = new Map<string, number>();
    receiver.script('/hook', (_n, request) => {
      const id = (JSON.parse(request.body) as { id: string }).id;
      const attempt = (attemptsOf.get(id) ?? 0) + 1;
      attemptsOf.set(id, attempt);
      const failOnce = Number(id.split('-')[1]) % 3 === 0;
      return { status: failOnce && attempt === 1 ? 503 : 204 };
    });
    const endpoint = await call(`${node(2).url}/v1/webhooks/endpoints`, 'POST', headers, {
      url: receiver.url('/hook'),
      eventTypes: ['billing.>'],
    });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
    // Other nodes pick the endpoint's rule up within a second; give them that.
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const N = 30;
    const ids = Array.from({ length: N }, (_, i) => `bill-${i}`);
    await Promise.all(
      ids.map(async (id, i) => {
        const r = await publish(node((i % 3) + 1).url, headers, id, 'billing.invoice.paid');
        expect(r.status).toBe(202);
      }),
    );
    const expected = (id: string) => (Number(id.split('-')[1]) % 3 === 0 ? 2 : 1);
    await expect
      .poll(() => ids.every((id) => (attemptsOf.get(id) ?? 0) >= expected(id)), {
        timeout: 20_000,
      })
      .toBe(true);
    // Longer than a retry delay and a dispatcher's look for work: nothing more arrives.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(Object.fromEntries(ids.map((id) => [id, attemptsOf.get(id)]))).toEqual(
      Object.fromEntries(ids.map((id) => [id, expected(id)])),
    );
    // A retry carries the first attempt's webhook-id (receivers deduplicate on it).
    const hookIds = new Map<string, Set<string>>();
    for (const r of receiver.on('/hook')) {
      const id = (JSON.parse(r.body) as { id: string }).id;
      hookIds.set(id, (hookIds.get(id) ?? new Set()).add(String(r.headers['webhook-id'])));
    }
    for (const id of ids) expect(hookIds.get(id)?.size).toBe(1);
  });

  it.each(['events-retention', 'stream-tickets-sweep'])(
    'elects exactly one node to run the %s chore',
    async (chore) => {
      const leaders = async () => {
        const flags = await Promise.all(
          cluster.nodes.map((n) => metricSum(n.url, 'portico_leader', `chore="${chore}"`)),
        );
        return flags;
      };
      await expect.poll(async () => (await leaders()).reduce((a, b) => a + b, 0)).toBe(1);
    },
  );
});
