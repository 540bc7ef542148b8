/**
 * Tenant isolation of push, tried every way a client can ask: live subscriptions on both
 * transports, replays from a position that precedes the other tenant's events, content
 * filters naming the other tenant, control endpoints on the other tenant's connection,
 * tickets, and stray parameters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ, SseClient, startPushHub, WsClient, type PushHub } from './push-test-kit.ts';

let h: PushHub;
let bPositions: number[];
let aPositions: number[];
const closers: Array<() => void> = [];

beforeAll(async () => {
  h = await startPushHub();
  // Interleaved history: B's events sit between A's.
  aPositions = [];
  bPositions = [];
  for (let i = 0; i < 3; i++) {
    aPositions.push(...(await h.publish('tenant-a', [{ type: 'incident.ticket.created' }])));
    bPositions.push(
      ...(await h.publish('tenant-b', [{ type: 'incident.ticket.created', data: { secret: i } }])),
    );
  }
});
afterAll(async () => {
  for (const close of closers) close();
  await h.close();
});

/** Every position of tenant A's events in the log (what A may see, and all it may see). */
const aLog = async () =>
  (await h.hub.log.read({ tenant: 'tenant-a', after: 0, limit: 1000 })).entries.map(
    (e) => e.position,
  );

const liveAfter = async () => {
  const [b] = await h.publish('tenant-b', [{ type: 'incident.ticket.created' }]);
  const [a] = await h.publish('tenant-a', [{ type: 'incident.ticket.created' }]);
  return { a: a!, b: b! };
};

describe("tenant A never sees tenant B's events", () => {
  it("over SSE: replay from before B's events and live, with a match-everything pattern", async () => {
    const token = await h.token('tenant-a', READ);
    // `tenant=` is not a stream parameter: it is ignored, never honoured.
    const client = new SseClient(`${h.base}/v1/stream?topic=>&from=0&tenant=tenant-b`, token);
    closers.push(() => client.close());
    await client.next('caught-up');
    const { a, b } = await liveAfter();
    await client.next('message', (m) => m.data.position === a);
    expect(client.positions()).toEqual(await aLog());
    expect(client.positions()).not.toContain(b);
    for (const m of client.inbox.items.filter((x) => x.type === 'message'))
      expect((m.data.event as { tenantid: string }).tenantid).toBe('tenant-a');
  });

  it("over WebSocket: replay and live, even with a filter naming B's tenant id", async () => {
    const ws = await WsClient.open(`${h.wsBase}/v1/ws`, {
      authorization: `Bearer ${await h.token('tenant-a', READ)}`,
    });
    closers.push(() => ws.close());
    ws.send({ type: 'subscribe', id: 'all', topic: '>', from: 0 });
    ws.send({
      type: 'subscribe',
      id: 'b-only',
      topic: '>',
      filter: { tenantid: ['tenant-b'] },
      from: 0,
    });
    await ws.next('caught-up', (m) => (m.subscriptions as string[]).includes('all'));
    await ws.next('caught-up', (m) => (m.subscriptions as string[]).includes('b-only'));
    const { a, b } = await liveAfter();
    await ws.next('event', (m) => m.position === a);
    const positions = ws.events().map((m) => m.position);
    expect(positions).toEqual(await aLog());
    expect(positions).not.toContain(b);
    expect(ws.events().some((m) => m.subscriptions.includes('b-only'))).toBe(false);
    // A stray `tenant` field on subscribe is refused, not ignored silently.
    ws.send({ type: 'subscribe', id: 'sneaky', topic: '>', tenant: 'tenant-b', ref: 9 });
    expect(await ws.next('error', (m) => m.ref === 9)).toMatchObject({
      code: 'invalid',
      errors: [{ pointer: '/tenant' }],
    });
  });

  it("cannot add to, list, remove from or refresh B's stream, even knowing its connection id", async () => {
    const bToken = await h.token('tenant-b', READ);
    const bClient = new SseClient(`${h.base}/v1/stream?topic=incident.>`, bToken);
    closers.push(() => bClient.close());
    const { connectionId } = (await bClient.next('ready')).data as { connectionId: string };
    const aAuth = { authorization: `Bearer ${await h.token('tenant-a', READ)}` };
    // One at a time: parallel fetches make undici pre-open sockets that never carry a
    // request, and Node's server.close() waits for those until its headers timeout.
    const attempts: Response[] = [];
    for (const attempt of [
      () =>
        fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
          method: 'POST',
          headers: { ...aAuth, 'content-type': 'application/json' },
          body: JSON.stringify({ id: 'tap', topic: '>' }),
        }),
      () => fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, { headers: aAuth }),
      () =>
        fetch(`${h.base}/v1/stream/${connectionId}/subscriptions/incident.>`, {
          method: 'DELETE',
          headers: aAuth,
        }),
      () =>
        fetch(`${h.base}/v1/stream/${connectionId}/refresh`, { method: 'POST', headers: aAuth }),
    ])
      attempts.push(await attempt());
    expect(attempts.map((r) => r.status)).toEqual([404, 404, 404, 404]);
    // B's stream is untouched: still exactly its one subscription.
    const own = await fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
      headers: { authorization: `Bearer ${bToken}` },
    });
    expect((await own.json()).subscriptions.map((s: { id: string }) => s.id)).toEqual([
      'incident.>',
    ]);
  });

  it("a ticket minted by A streams A's events, whatever the URL says", async () => {
    const aToken = await h.token('tenant-a', READ);
    const { ticket } = (await (
      await fetch(`${h.base}/v1/stream/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${aToken}` },
      })
    ).json()) as { ticket: string };
    const client = new SseClient(`${h.base}/v1/stream?ticket=${ticket}&topic=>&from=0`);
    closers.push(() => client.close());
    await client.next('caught-up');
    expect(client.positions().every((p) => !bPositions.includes(p))).toBe(true);
    expect(client.positions()).toEqual(await aLog());
  });
});
