/**
 * The subscription option `last: N`: replay the last N matching events of the tenant, then
 * go live, on both wires and the SSE control endpoint (what an app shell uses for a
 * micro-frontend that mounts late).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTopicPattern } from '../events/topic.ts';
import { lastNStart } from './last-n-start.ts';
import { READ, SseClient, startPushHub, WsClient, type PushHub } from './push-test-kit.ts';

let h: PushHub;
const closers: Array<{ close(): void }> = [];

beforeAll(async () => {
  h = await startPushHub();
});
afterAll(async () => {
  for (const client of closers) client.close();
  await h.close();
});

const INC = 'incident.ticket.created';
const BILL = 'billing.invoice.paid';

const ws = async (tenant: string) => {
  const client = await WsClient.open(`${h.wsBase}/v1/ws`, {
    authorization: `Bearer ${await h.token(tenant, READ)}`,
  });
  closers.push(client);
  return client;
};

describe('last: N', () => {
  it('WebSocket: the last N matching events of the tenant (filter included), then live', async () => {
    const t = 'last-ws';
    const positions = await h.publish(t, [
      { type: INC, data: { severity: 'high', n: 1 } },
      { type: BILL },
      { type: INC, data: { severity: 'low', n: 2 } },
      { type: INC, data: { severity: 'high', n: 3 } },
      { type: BILL },
      { type: INC, data: { severity: 'high', n: 4 } },
      { type: INC, data: { severity: 'high', n: 5 } },
      { type: INC, data: { severity: 'low', n: 6 } },
    ]);
    // Another tenant's newer events never count.
    await h.publish('last-ws-other', [{ type: INC, data: { severity: 'high' } }]);

    const client = await ws(t);
    client.send({
      type: 'subscribe',
      id: 'high',
      topic: 'incident.>',
      filter: { data: { severity: ['high'] } },
      last: 3,
    });
    await client.next('subscribed');
    const caughtUp = await client.next('caught-up');
    // The replay read past the last match (its cursor is the last entry it read).
    expect(caughtUp).toMatchObject({ subscriptions: ['high'] });
    expect(caughtUp.position).toBeGreaterThanOrEqual(positions[6]!);
    expect(client.events().map((m) => (m.event as { data: { n: number } }).data.n)).toEqual([
      3, 4, 5,
    ]);
    const [live] = await h.publish(t, [{ type: INC, data: { severity: 'high', n: 7 } }]);
    await client.next('event', (m) => m.position === live);
    expect(client.events().map((m) => m.position)).toEqual([
      positions[3],
      positions[5],
      positions[6],
      live,
    ]);
  });

  it('WebSocket: fewer matching events than N gives all of them; nothing gives only caught-up', async () => {
    const t = 'last-few';
    const positions = await h.publish(t, [{ type: INC }, { type: INC }]);
    const client = await ws(t);
    client.send({ type: 'subscribe', id: 'inc', topic: 'incident.>', last: 50 });
    client.send({ type: 'subscribe', id: 'none', topic: 'nothing.>', last: 5 });
    await client.next('caught-up', (m) => (m.subscriptions as string[])[0] === 'inc');
    await client.next('caught-up', (m) => (m.subscriptions as string[])[0] === 'none');
    expect(client.events().map((m) => m.position)).toEqual(positions);
  });

  it('refuses last with from, and outside 1..1000', async () => {
    const client = await ws('last-invalid');
    client.send({ type: 'subscribe', id: 'a', topic: 'a.>', from: 1, last: 2, ref: 1 });
    expect(await client.next('error', (m) => m.ref === 1)).toMatchObject({
      code: 'invalid',
      errors: [expect.objectContaining({ pointer: '/last' })],
    });
    client.send({ type: 'subscribe', id: 'b', topic: 'b.>', last: 0, ref: 2 });
    expect(await client.next('error', (m) => m.ref === 2)).toMatchObject({ code: 'invalid' });

    const token = await h.token('last-invalid', READ);
    const stream = new SseClient(`${h.base}/v1/stream?topic=x.>`, token);
    closers.push(stream);
    const { connectionId } = (await stream.next('ready')).data as { connectionId: string };
    const res = await fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'c', topic: 'c.>', last: 1001 }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('SSE control endpoint: a late subscription gets the last N without ids, then live', async () => {
    const t = 'last-sse';
    const token = await h.token(t, READ);
    const stream = new SseClient(`${h.base}/v1/stream?topic=incident.*.ticket.created`, token);
    closers.push(stream);
    const { connectionId } = (await stream.next('ready')).data as { connectionId: string };
    const bills = await h.publish(t, [{ type: BILL }, { type: BILL }, { type: BILL }]);
    const [inc] = await h.publish(t, [{ type: INC }]);
    await stream.next('message', (m) => m.data.position === inc);

    const added = await fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'billing', topic: 'billing.>', last: 2 }),
    });
    expect(added.status).toBe(201);
    expect(await added.json()).toMatchObject({ id: 'billing', replaying: true });
    await stream.next('caught-up', (m) => (m.data.subscriptions as string[])[0] === 'billing');
    const replayed = stream.inbox.items.filter(
      (m) => m.type === 'message' && (m.data.subscriptions as string[]).includes('billing'),
    );
    expect(replayed.map((m) => m.data.position)).toEqual(bills.slice(1));
    expect(replayed.map((m) => m.lastEventId)).toEqual(['', '']);
    const [liveBill] = await h.publish(t, [{ type: BILL }]);
    const live = await stream.next('message', (m) => m.data.position === liveBill);
    expect(live.data.subscriptions).toEqual(['billing']);
  });

  it('SSE subscriptions= with last on a fresh stream: replayed without ids, live with ids', async () => {
    const t = 'last-sse-query';
    const token = await h.token(t, READ);
    const positions = await h.publish(t, [{ type: INC }, { type: INC }, { type: INC }]);
    const subscriptions = encodeURIComponent(
      JSON.stringify([{ id: 'recent', topic: 'incident.>', last: 1 }]),
    );
    const stream = new SseClient(`${h.base}/v1/stream?subscriptions=${subscriptions}`, token);
    closers.push(stream);
    await stream.next('caught-up');
    const replayed = stream.inbox.items.filter((m) => m.type === 'message');
    expect(replayed.map((m) => [m.data.position, m.lastEventId])).toEqual([[positions[2], '']]);
    const [live] = await h.publish(t, [{ type: INC }]);
    expect((await stream.next('message', (m) => m.data.position === live)).lastEventId).toBe(
      String(live),
    );
  });

  it('counts back through windows when the matching events are sparse in a busy log', async () => {
    const t = 'last-sparse';
    const [a, b] = await h.publish(t, [{ type: INC }, { type: INC }]);
    await h.publish(
      t,
      Array.from({ length: 40 }, () => ({ type: BILL })),
    );
    await h.publish(
      'last-sparse-other',
      Array.from({ length: 40 }, () => ({ type: INC })),
    );
    const [c] = await h.publish(t, [{ type: INC }]);
    const matchesTopic = compileTopicPattern('incident.>');
    const { last: end } = await h.hub.log.bounds();
    const start = (n: number, topicPattern: string | undefined) =>
      lastNStart(h.hub.log, {
        tenant: t,
        topicPattern,
        matches: (e) => matchesTopic(e.topic),
        n,
        pageSize: 4,
        end,
        stopped: () => false,
      });
    expect(await start(1, 'incident.>')).toBe(c! - 1);
    expect(await start(2, 'incident.>')).toBe(b! - 1);
    // Without the log's topic filter (several subscriptions), pages carry other events.
    expect(await start(3, undefined)).toBe(a! - 1);
    expect(await start(4, undefined)).toBe(0);
  });

  it("a ticket carries the log's position: from=position misses nothing published before connecting", async () => {
    const t = 'ticket-position';
    const token = await h.token(t, READ);
    const [old] = await h.publish(t, [{ type: INC }]);
    const minted = await fetch(`${h.base}/v1/stream/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const { ticket, position } = (await minted.json()) as { ticket: string; position: number };
    expect(position).toBeGreaterThanOrEqual(old!);
    // Published after minting, before the stream opens: a fresh stream would miss it.
    const [between] = await h.publish(t, [{ type: INC }]);
    const stream = new SseClient(
      `${h.base}/v1/stream?ticket=${ticket}&topic=incident.>&from=${position}`,
    );
    closers.push(stream);
    await stream.next('caught-up');
    const [live] = await h.publish(t, [{ type: INC }]);
    await stream.next('message', (m) => m.data.position === live);
    expect(stream.positions()).toEqual([between, live]);
  });
});
