/**
 * A client that stops reading: the hub must disconnect it with a reason once its send
 * queue would pass push.maxQueueBytes, and must never have queued more than that. The
 * clients here are real sockets that simply stop reading (TCP backpressure fills the
 * kernel buffers first, then the hub's queue).
 */
import { waitFor } from '../testing/wait-for.ts';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ, SseClient, startPushHub, WsClient, type PushHub } from './push-test-kit.ts';

const LIMIT = 256 * 1024;
let h: PushHub;

beforeAll(async () => {
  h = await startPushHub({ push: { maxQueueBytes: LIMIT } });
});
afterAll(() => h.close());

/** Publishes ~100 KB events for `tenant` until `done()` (at most `cap` events, then fails). */
async function flood(tenant: string, done: () => Promise<boolean>, cap = 600): Promise<number> {
  const pad = 'x'.repeat(100 * 1024);
  let sent = 0;
  while (!(await done())) {
    if (sent >= cap) throw new Error(`still connected after ${sent} large events`);
    await h.publish(
      tenant,
      Array.from({ length: 10 }, () => ({ type: 'bulk.item.created', data: { pad } })),
    );
    sent += 10;
  }
  return sent;
}

const disconnects = () => h.metric('portico_push_disconnects_total', { reason: 'slow-consumer' });

describe('a reader that keeps reading', () => {
  it('is not mistaken for a slow one when one append batch alone exceeds the queue limit', async () => {
    const token = await h.token('fast-ws', READ);
    const ws = new WebSocket(`${h.wsBase}/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const events: unknown[] = [];
    const subscribed = new Promise((resolve) =>
      ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string };
        if (message.type === 'subscribed') resolve(true);
        if (message.type === 'event') events.push(message);
      }),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'subscribe', id: 'bulk', topic: 'bulk.>' }));
    await subscribed;
    const pad = 'x'.repeat(100 * 1024);
    // ~1 MB in one append: four times the limit, all dispatched in one corked batch.
    await h.publish(
      'fast-ws',
      Array.from({ length: 10 }, () => ({ type: 'bulk.item.created', data: { pad } })),
    );
    await waitFor(() => events.length === 10, 'all ten events');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });
});

/** ~800 KB of history for `tenant`, three times the queue limit; returns the positions. */
async function history(tenant: string): Promise<number[]> {
  const pad = 'y'.repeat(20 * 1024);
  const positions: number[] = [];
  for (let i = 0; i < 4; i++)
    positions.push(
      ...(await h.publish(
        tenant,
        Array.from({ length: 10 }, () => ({ type: 'bulk.item.created', data: { pad } })),
      )),
    );
  return positions;
}

describe('a replay larger than the queue limit', () => {
  it('over WebSocket is paced by the socket draining, and arrives whole', async () => {
    const positions = await history('replay-ws');
    const ws = await WsClient.open(`${h.wsBase}/v1/ws`, {
      authorization: `Bearer ${await h.token('replay-ws', READ)}`,
    });
    try {
      ws.send({ type: 'subscribe', id: 'bulk', topic: 'bulk.>', from: 0 });
      await ws.next('caught-up');
      expect(ws.events().map((m) => m.position)).toEqual(positions);
      expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      ws.close();
    }
  });

  it('over SSE is paced by the socket draining, and arrives whole', async () => {
    const positions = await history('replay-sse');
    const client = new SseClient(
      `${h.base}/v1/stream?topic=bulk.>&from=0`,
      await h.token('replay-sse', READ),
    );
    try {
      await client.next('caught-up', () => true, 20_000);
      expect(client.positions()).toEqual(positions);
      expect(client.inbox.items.some((m) => m.type === 'reconnect')).toBe(false);
    } finally {
      client.close();
    }
  });
});

/**
 * Holds the first log read for `tenant` (a replay's) after it has read, until released:
 * events published meanwhile reach the replay's buffer, not its page.
 */
function holdFirstRead(tenant: string) {
  const log = h.hub.log;
  const read = log.read;
  let entered!: () => void;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let first = true;
  log.read = async (options) => {
    const page = await read.call(log, options);
    if (options.tenant !== tenant || !first) return page;
    first = false;
    entered();
    await released;
    return page;
  };
  return { held, release, restore: () => (log.read = read) };
}

describe('a replay going live', () => {
  it('over WebSocket sends the events buffered meanwhile as the socket drains: a reader that lags is not cut', async () => {
    const tenant = 'golive-ws';
    const gate = holdFirstRead(tenant);
    const ws = await WsClient.open(`${h.wsBase}/v1/ws`, {
      authorization: `Bearer ${await h.token(tenant, READ)}`,
    });
    try {
      ws.send({ type: 'subscribe', id: 'fill', topic: 'fill.>' });
      await ws.next('subscribed', (m) => m.id === 'fill');
      ws.send({ type: 'subscribe', id: 'bulk', topic: 'bulk.>', from: 0 });
      await gate.held; // the replay has read the (empty) log and not gone live yet
      const item = (type: string) => ({ type, data: { pad: type[0]!.repeat(50 * 1024) } });
      // ~200 KB arrive during the replay: buffered, within the buffer's bound (the limit).
      const buffered = await h.publish(
        tenant,
        Array.from({ length: 4 }, () => item('bulk.item.created')),
      );

      // The client lags: it stops reading while live events of its other subscription fill
      // the kernel's buffers, until the hub holds bytes; two more put 100-150 KB there.
      ws.socket.pause();
      const live: number[] = [];
      while ((await h.metric('portico_push_send_queue_bytes')) === 0) {
        if (live.length >= 2000) throw new Error('the hub never queued anything');
        live.push(...(await h.publish(tenant, [item('fill.item.created')])));
      }
      live.push(
        ...(await h.publish(tenant, [item('fill.item.created'), item('fill.item.created')])),
      );

      // Going live now must wait for the queue to drain: the buffer on top of it passes the
      // limit. The client reads again; before, the hub cut it as a slow consumer and its
      // close frame stayed corked (the client saw 1006 at the end grace).
      const before = await disconnects();
      gate.release();
      ws.socket.resume();
      const outcome = await Promise.race([
        ws.next('caught-up', (m) => (m.subscriptions as string[]).includes('bulk')),
        ws.closed,
      ]);
      expect(outcome).toMatchObject({ type: 'caught-up', position: buffered.at(-1) });
      const events = ws.events();
      expect(events.filter((m) => m.subscriptions.includes('fill')).map((m) => m.position)).toEqual(
        live,
      );
      expect(events.filter((m) => m.subscriptions.includes('bulk')).map((m) => m.position)).toEqual(
        buffered,
      );
      expect(ws.socket.readyState).toBe(WebSocket.OPEN);
      expect(await disconnects()).toBe(before);
    } finally {
      gate.restore();
      ws.close();
    }
  });
});

describe('a replay beside live subscriptions', () => {
  it('leaves room in the send queue for their events and replies: a reader that lags is not cut', async () => {
    const tenant = 'replay-beside-live';
    const frame = 20 * 1024;
    // A backlog well past the kernel's buffers and the limit.
    const pad = 'h'.repeat(frame);
    const history: number[] = [];
    for (let i = 0; i < 30; i++)
      history.push(
        ...(await h.publish(
          tenant,
          Array.from({ length: 10 }, () => ({ type: 'old.item.created', data: { pad } })),
        )),
      );
    const ws = await WsClient.open(`${h.wsBase}/v1/ws`, {
      authorization: `Bearer ${await h.token(tenant, READ)}`,
    });
    try {
      ws.send({ type: 'subscribe', id: 'live', topic: 'new.>' });
      await ws.next('subscribed', (m) => m.id === 'live');
      // The client lags (as over a slow network) while the replay fills what it may.
      ws.socket.pause();
      ws.send({ type: 'subscribe', id: 'old', topic: 'old.>', from: 0 });
      let last = -1;
      await waitFor(async () => {
        const queued = await h.metric('portico_push_send_queue_bytes');
        const settled = queued > 0 && queued === last;
        last = queued;
        return settled;
      }, 'the replay to wait for the client');

      // Before, the replay filled the queue up to the limit, so these (a third of it)
      // cut the connection as a slow consumer.
      const live = await h.publish(
        tenant,
        Array.from({ length: 4 }, () => ({
          type: 'new.item.created',
          data: { pad: 'n'.repeat(LIMIT / 12) },
        })),
      );
      ws.socket.resume();
      const outcome = await Promise.race([
        ws.next('caught-up', (m) => (m.subscriptions as string[]).includes('old')),
        ws.closed,
      ]);
      expect(outcome).toMatchObject({ type: 'caught-up', position: history.at(-1) });
      await waitFor(
        () => ws.events().filter((m) => m.subscriptions.includes('live')).length === live.length,
        'the live events',
      );
      const events = ws.events();
      expect(events.filter((m) => m.subscriptions.includes('old')).map((m) => m.position)).toEqual(
        history,
      );
      expect(events.filter((m) => m.subscriptions.includes('live')).map((m) => m.position)).toEqual(
        live,
      );
      expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      ws.close();
    }
  });
});

describe('a reader that stops reading', () => {
  it('over SSE is disconnected with a `reconnect` event saying why, and its queue never passed the limit', async () => {
    const token = await h.token('slow-sse', READ);
    const socket: Socket = connect(Number(new URL(h.base).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET /v1/stream?topic=bulk.> HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\naccept: text/event-stream\r\n\r\n`,
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await waitFor(() => Buffer.concat(chunks).includes('event: ready'), 'the stream to open');
    socket.pause(); // the client stops reading

    const before = await disconnects();
    const sent = await flood('slow-sse', async () => (await disconnects()) > before);
    expect(sent).toBeGreaterThan(0);
    expect(await h.metric('portico_push_send_queue_peak_bytes')).toBeLessThanOrEqual(LIMIT);
    expect(
      await h.metric('portico_push_dropped_messages_total', { reason: 'slow-consumer' }),
    ).toBeGreaterThan(0);
    expect(await h.metric('portico_push_connections', { transport: 'sse' })).toBe(0);

    // Reading again, the client finds what was queued, then the reason, then the end.
    const ended = new Promise((resolve) => socket.once('end', resolve));
    socket.resume();
    await ended;
    const text = Buffer.concat(chunks).toString();
    const lastEvent = text.slice(text.lastIndexOf('event: '));
    expect(lastEvent).toMatch(
      /^event: reconnect\ndata: \{"reason":"slow-consumer","detail":"the send queue would exceed 262144 bytes/,
    );
    socket.destroy();
  });

  it('over WebSocket is closed with 4008 and the reason', async () => {
    const token = await h.token('slow-ws', READ);
    const ws = new WebSocket(`${h.wsBase}/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    const subscribed = new Promise((resolve) =>
      ws.on('message', (data) => String(data).includes('"subscribed"') && resolve(true)),
    );
    ws.send(JSON.stringify({ type: 'subscribe', id: 'bulk', topic: 'bulk.>' }));
    await subscribed;
    ws.pause(); // stops reading the socket

    const before = await disconnects();
    await flood('slow-ws', async () => (await disconnects()) > before);
    expect(await h.metric('portico_push_send_queue_peak_bytes')).toBeLessThanOrEqual(LIMIT);
    expect(await h.metric('portico_push_connections', { transport: 'ws' })).toBe(0);
    ws.resume();
    expect(await closed).toEqual({
      code: 4008,
      reason: expect.stringMatching(/^slow-consumer: the send queue would exceed 262144/),
    });
  });
});

describe('a client that sends requests and never reads the replies', () => {
  it('over WebSocket is closed with 4008 too: replies count against the send queue', async () => {
    const token = await h.token('deaf-ws', READ);
    const ws = new WebSocket(`${h.wsBase}/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.pause(); // stops reading the socket

    // Each message is answered by an `error` about as large (it names the unknown field).
    // Replies used to bypass the queue's limit: the hub queued them for as long as the
    // client kept sending, hundreds of megabytes.
    const request = JSON.stringify({
      type: 'subscribe',
      id: 'x',
      topic: 'a.>',
      ['k'.repeat(60_000)]: 1,
    });
    const before = await disconnects();
    let sent = 0;
    while ((await disconnects()) === before) {
      if (sent >= 2000) throw new Error(`still connected after ${sent} unanswered requests`);
      for (let i = 0; i < 20; i++) ws.send(request);
      sent += 20;
      await new Promise<void>((resolve) => ws.send('{"type":"ping"}', () => resolve()));
    }
    expect(await h.metric('portico_push_connections', { transport: 'ws' })).toBe(0);
    ws.resume();
    expect(await closed).toEqual({
      code: 4008,
      reason: expect.stringMatching(/^slow-consumer: the send queue passed 262144 bytes/),
    });
  });
});
