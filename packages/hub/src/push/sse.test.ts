/**
 * SSE end to end: a listening hub, the `eventsource` npm client (the same protocol logic as
 * a browser's EventSource, including its own reconnect with Last-Event-ID).
 */
import { connect } from 'node:net';
import { waitFor } from '../testing/wait-for.ts';
import { connectionCount } from '../testing/connection-count.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CuttableProxy, READ, SseClient, startPushHub, type PushHub } from './push-test-kit.ts';

let h: PushHub;
const clients: SseClient[] = [];
const sse = (url: string, token?: string) => {
  const client = new SseClient(url, token);
  clients.push(client);
  return client;
};

beforeAll(async () => {
  h = await startPushHub({ push: { retryMs: 50 } });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await h.close();
});

const INC = 'incident.ticket.created';
const INC_TOPIC = 'incident.*.ticket.created';

describe('GET /v1/stream', () => {
  it('streams matching events with id = log position, naming the subscription; nothing else', async () => {
    const token = await h.token('sse-a', READ);
    const client = sse(`${h.base}/v1/stream?topic=${INC_TOPIC}`, token);
    const ready = await client.next('ready');
    expect(ready.data).toMatchObject({ subscriptions: [INC_TOPIC], heartbeatSeconds: 15 });
    expect(ready.data.connectionId).toMatch(/^[0-9a-f-]{36}$/);

    await h.publish('sse-b', [{ type: INC }]); // another tenant, same topic
    const [, position] = await h.publish('sse-a', [
      { type: 'billing.invoice.paid' },
      { type: INC, data: { n: 1 } },
    ]);
    const message = await client.next('message');
    expect(message.lastEventId).toBe(String(position));
    expect(message.data).toMatchObject({
      subscriptions: [INC_TOPIC],
      position,
      topic: 'incident.dev.ticket.created',
      event: { type: INC, tenantid: 'sse-a', data: { n: 1 } },
    });
    const [later] = await h.publish('sse-a', [{ type: INC }]);
    await client.next('message', (m) => m.data.position === later);
    expect(client.positions()).toEqual([position, later]);
  });

  it('takes subscriptions with content filters as JSON and says which one matched', async () => {
    const token = await h.token('sse-filter', READ);
    const subs = [
      { id: 'high', topic: 'incident.>', filter: { data: { severity: ['high'] } } },
      { id: 'eu', topic: 'incident.>', filter: { data: { region: [{ prefix: 'eu-' }] } } },
    ];
    const client = sse(
      `${h.base}/v1/stream?subscriptions=${encodeURIComponent(JSON.stringify(subs))}`,
      token,
    );
    await client.next('ready');
    const [low, high, euHigh] = await h.publish('sse-filter', [
      { type: INC, data: { severity: 'low', region: 'us-1' } },
      { type: INC, data: { severity: 'high', region: 'us-1' } },
      { type: INC, data: { severity: 'high', region: 'eu-west' } },
    ]);
    await client.next('message', (m) => m.data.position === euHigh);
    const got = client.inbox.items
      .filter((m) => m.type === 'message')
      .map((m) => [m.data.position, m.data.subscriptions]);
    expect(got).toEqual([
      [high, ['high']],
      [euHigh, expect.arrayContaining(['high', 'eu'])],
    ]);
    expect(client.positions()).not.toContain(low);
  });

  it('resumes after a dropped connection with Last-Event-ID: nothing missed, nothing doubled, while events keep flowing', async () => {
    const proxy = await CuttableProxy.start(h.base);
    const token = await h.token('sse-resume', READ);
    const client = sse(`${proxy.url}/v1/stream?topic=${INC_TOPIC}`, token);
    await client.next('ready');

    const published: number[] = [];
    const duringOutage: number[] = [];
    let outage = false;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const positions = await h.publish('sse-resume', [
          { type: INC },
          { type: 'billing.invoice.paid' },
          { type: INC },
        ]);
        const incidents = [positions[0]!, positions[2]!];
        published.push(...incidents);
        if (outage) duringOutage.push(...incidents);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    await waitFor(() => client.positions().length >= 30, 'events before the drop');
    outage = true;
    proxy.cut();
    // The client notices, waits the retry hint (50 ms) and reconnects with Last-Event-ID.
    await client.next('ready', (m) => m !== client.inbox.items.find((x) => x.type === 'ready'));
    outage = false;
    const atReconnect = client.positions().length;
    await waitFor(
      () => client.positions().length >= atReconnect + 30,
      'events after the reconnect',
    );
    publishing = false;
    await publisher;
    await waitFor(() => client.positions().length >= published.length, 'every published event');

    expect(duringOutage.length).toBeGreaterThan(0); // events really were published while it was away
    expect(client.positions()).toEqual(published); // each once, in order
    expect(client.inbox.items.filter((m) => m.type === 'ready')).toHaveLength(2);
    expect(await h.metric('portico_push_replay_events')).toBeDefined();
    await proxy.close();
  });

  it('replays after ?from= and then marks the switch to live', async () => {
    const token = await h.token('sse-from', READ);
    const positions = await h.publish('sse-from', [{ type: INC }, { type: INC }, { type: INC }]);
    const client = sse(`${h.base}/v1/stream?topic=${INC_TOPIC}&from=${positions[0]}`, token);
    const caughtUp = await client.next('caught-up');
    expect(caughtUp.data).toEqual({ subscriptions: [INC_TOPIC], position: positions[2] });
    expect(client.positions()).toEqual(positions.slice(1));
    const [live] = await h.publish('sse-from', [{ type: INC }]);
    await client.next('message', (m) => m.data.position === live);
  });

  it('lets an app shell add, list and remove subscriptions on its open stream', async () => {
    const token = await h.token('sse-ctl', READ);
    const auth = { authorization: `Bearer ${token}` };
    const [old] = await h.publish('sse-ctl', [{ type: 'billing.invoice.paid' }]);
    const client = sse(`${h.base}/v1/stream?topic=${INC_TOPIC}`, token);
    const { connectionId } = (await client.next('ready')).data as { connectionId: string };
    const [first] = await h.publish('sse-ctl', [{ type: INC }]);
    await client.next('message', (m) => m.data.position === first);

    // A micro-frontend mounts late and wants billing events, including the one it missed.
    const added = await fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'billing', topic: 'billing.>', from: 0 }),
    });
    expect(added.status).toBe(201);
    expect(await added.json()).toEqual({ id: 'billing', topic: 'billing.>', replaying: true });
    await client.next('subscribed', (m) => m.data.id === 'billing');
    const replayed = await client.next('message', (m) => m.data.position === old);
    expect(replayed.data.subscriptions).toEqual(['billing']);
    // Its position is below ids already sent, so it carries no `id:` (Last-Event-ID stays put).
    expect(replayed.lastEventId).toBe('');
    await client.next('caught-up', (m) => (m.data.subscriptions as string[])[0] === 'billing');

    const list = await fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
      headers: auth,
    });
    expect((await list.json()).subscriptions.map((s: { id: string }) => s.id).sort()).toEqual([
      'billing',
      INC_TOPIC,
    ]);

    const dupe = await fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'billing', topic: 'billing.>' }),
    });
    expect(dupe.status).toBe(409);

    const removed = await fetch(`${h.base}/v1/stream/${connectionId}/subscriptions/billing`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(removed.status).toBe(204);
    await client.next('unsubscribed', (m) => m.data.id === 'billing');
    const [bill, inc] = await h.publish('sse-ctl', [
      { type: 'billing.invoice.paid' },
      { type: INC },
    ]);
    await client.next('message', (m) => m.data.position === inc);
    expect(client.positions()).not.toContain(bill);

    // Another user of the same tenant cannot touch this stream.
    const stranger = await fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
      headers: {
        authorization: `Bearer ${await h.hub.devIssuer!.mint({ tenant: 'sse-ctl', subject: 'mallory', scopes: READ })}`,
      },
    });
    expect(stranger.status).toBe(404);

    // A push channel (a routing rule's push target) is added the same way.
    const channel = await fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'alerts', channel: 'alerts' }),
    });
    expect(channel.status).toBe(201);
    expect(await channel.json()).toEqual({
      id: 'alerts',
      topic: 'portico.*.push.alerts',
      channel: 'alerts',
      replaying: false,
    });
  });

  it('authenticates an EventSource with a single-use ticket', async () => {
    const token = await h.token('sse-ticket', READ);
    const minted = await fetch(`${h.base}/v1/stream/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(minted.status).toBe(201);
    expect(minted.headers.get('cache-control')).toBe('no-store');
    const { ticket, expiresAt } = (await minted.json()) as { ticket: string; expiresAt: string };
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());

    const client = sse(`${h.base}/v1/stream?ticket=${ticket}&topic=${INC_TOPIC}`);
    await client.next('ready');
    const [position] = await h.publish('sse-ticket', [{ type: INC }]);
    await client.next('message', (m) => m.data.position === position);

    const again = await fetch(`${h.base}/v1/stream?ticket=${ticket}`);
    expect(again.status).toBe(401);
    expect(again.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await again.json()).detail).toMatch(/unknown, already used or expired/);

    const { ticket: fresh } = (await (
      await fetch(`${h.base}/v1/stream/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { ticket: string };
    const both = await fetch(`${h.base}/v1/stream?ticket=${fresh}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(both.status).toBe(400);
  });

  it('does not spend a ticket on a request refused as malformed', async () => {
    const token = await h.token('sse-ticket-kept', READ);
    const { ticket } = (await (
      await fetch(`${h.base}/v1/stream/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { ticket: string };
    const badTopic = await fetch(`${h.base}/v1/stream?ticket=${ticket}&topic=Not.A.Pattern`);
    expect(badTopic.status).toBe(400);
    const badList = await fetch(
      `${h.base}/v1/stream?ticket=${ticket}&subscriptions=${encodeURIComponent('[{"id":"x"}]')}`,
    );
    expect(badList.status).toBe(400);
    const badResume = await fetch(`${h.base}/v1/stream?ticket=${ticket}&topic=a.>`, {
      headers: { 'last-event-id': 'yesterday' },
    });
    expect(badResume.status).toBe(400);
    expect((await badResume.json()).detail).toMatch(/Last-Event-ID/);

    const client = sse(`${h.base}/v1/stream?ticket=${ticket}&topic=a.>`);
    expect((await client.next('ready')).data.subscriptions).toEqual(['a.>']);
  });

  it('ends the stream with an `expired` event when the token runs out, unless it is refreshed', async () => {
    const short = (ttlSeconds: number, subject = 'dev-user') =>
      h.hub.devIssuer!.mint({ tenant: 'sse-exp', scopes: READ, ttlSeconds, subject });
    const lapsing = sse(`${h.base}/v1/stream?topic=${INC_TOPIC}`, await short(2));
    const refreshed = sse(`${h.base}/v1/stream?topic=${INC_TOPIC}`, await short(2));
    const { connectionId } = (await refreshed.next('ready')).data as { connectionId: string };
    await lapsing.next('ready');

    await refreshed.next('expiring');
    const renewed = await fetch(`${h.base}/v1/stream/${connectionId}/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await short(600)}` },
    });
    expect(renewed.status).toBe(200);

    const expired = await lapsing.next('expired');
    expect(expired.data).toMatchObject({ reason: 'token-expired' });
    lapsing.close();
    // Past the old deadline, the refreshed stream still delivers.
    const [position] = await h.publish('sse-exp', [{ type: INC }]);
    await refreshed.next('message', (m) => m.data.position === position);
    expect(refreshed.inbox.items.some((m) => m.type === 'expired')).toBe(false);
  });

  it('answers bad input with 400 problem+json naming the field', async () => {
    const token = await h.token('sse-bad', READ);
    const get = async (query: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${h.base}/v1/stream?${query}`, {
        headers: { authorization: `Bearer ${token}`, ...headers },
      });
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      return {
        status: res.status,
        body: (await res.json()) as { errors?: Array<{ pointer: string }> },
      };
    };
    const badTopic = await get('topic=incident..x');
    expect(badTopic.status).toBe(400);
    expect(badTopic.body.errors?.[0]?.pointer).toBe('/topic/0');

    const badFilter = await get(
      `subscriptions=${encodeURIComponent(JSON.stringify([{ id: 'x', topic: 'a.>', filter: { data: { n: [{ numeric: ['>>', 1] }] } } }]))}`,
    );
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.errors?.[0]?.pointer).toMatch(/^\/subscriptions\/0\/filter\/data\/n/);

    expect((await get('subscriptions=not-json')).status).toBe(400);
    expect(
      (
        await get(
          `subscriptions=${encodeURIComponent('[{"id":"a","topic":"a.>"},{"id":"a","topic":"b.>"}]')}`,
        )
      ).status,
    ).toBe(400);
    expect(
      (await get(`subscriptions=${encodeURIComponent('[{"id":"a","topic":"a.>","from":3}]')}`))
        .status,
    ).toBe(400);
    const badChannel = await get('channel=Not%20A%20Channel');
    expect(badChannel.status).toBe(400);
    expect(badChannel.body.errors?.[0]?.pointer).toBe('/channel/0');
    expect((await get('topic=a.>', { 'last-event-id': 'yesterday' })).status).toBe(400);
    expect((await get('from=-1')).status).toBe(400);
  });

  it('refuses a position past the safe integers (it was rounded and answered with a reset)', async () => {
    const token = await h.token('sse-huge-from', READ);
    for (const from of ['9007199254740993', '1e300']) {
      const res = await fetch(`${h.base}/v1/stream?topic=a.>&from=${from}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status, from).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(((await res.json()) as { errors: Array<{ pointer: string }> }).errors).toEqual([
        expect.objectContaining({ pointer: '/from', in: 'query' }),
      ]);
    }
  });

  it('refuses a token without events:read (403) and a request without credentials (401)', async () => {
    const publisher = await h.token('sse-scope', ['events:publish']);
    const res = await fetch(`${h.base}/v1/stream?topic=a.>`, {
      headers: { authorization: `Bearer ${publisher}` },
    });
    expect(res.status).toBe(403);
    expect((await res.json()).type).toBe('urn:portico:problem:forbidden');
    const tickets = await fetch(`${h.base}/v1/stream/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisher}` },
    });
    expect(tickets.status).toBe(403);
    expect((await fetch(`${h.base}/v1/stream?topic=a.>`)).status).toBe(401);
  });

  it('limits connections per tenant with 429', async () => {
    const limited = await startPushHub({ push: { maxConnectionsPerTenant: 1 } });
    try {
      const token = await limited.token('sse-limit', READ);
      const first = new SseClient(`${limited.base}/v1/stream?topic=a.>`, token);
      await first.next('ready');
      const second = await fetch(`${limited.base}/v1/stream?topic=a.>`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(second.status).toBe(429);
      expect((await second.json()).type).toBe('urn:portico:problem:rate-limited');
      first.close();
    } finally {
      await limited.close();
    }
  });

  it('gives a ticket back when its stream is refused (429): the same ticket opens it once there is room', async () => {
    const limited = await startPushHub({ push: { maxConnectionsPerTenant: 1 } });
    try {
      const token = await limited.token('sse-limit-ticket', READ);
      const first = new SseClient(`${limited.base}/v1/stream?topic=a.>`, token);
      await first.next('ready');
      const { ticket } = (await (
        await fetch(`${limited.base}/v1/stream/tickets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as { ticket: string };
      const refused = await fetch(`${limited.base}/v1/stream?ticket=${ticket}&topic=a.>`);
      expect(refused.status).toBe(429);
      expect((await refused.json()).type).toBe('urn:portico:problem:rate-limited');

      first.close();
      await waitFor(
        async () => (await limited.metric('portico_push_connections', { transport: 'sse' })) === 0,
        'the first stream to close',
      );
      const retried = new SseClient(`${limited.base}/v1/stream?ticket=${ticket}&topic=a.>`);
      await retried.next('ready');
      retried.close();
      // Opened once, the ticket is spent.
      expect((await fetch(`${limited.base}/v1/stream?ticket=${ticket}`)).status).toBe(401);
    } finally {
      await limited.close();
    }
  });
});

describe('shutdown', () => {
  it('tells open streams to reconnect before the hub closes', async () => {
    const other = await startPushHub({ push: { retryMs: 60_000 } });
    const client = new SseClient(
      `${other.base}/v1/stream?topic=a.>`,
      await other.token('sse-down', READ),
    );
    await client.next('ready');
    await other.close();
    const reconnect = await client.next('reconnect');
    expect(reconnect.data).toMatchObject({ reason: 'shutdown' });
    client.close();
  });
});

/** A hub whose identity provider answers its `held`-th token check only when released. */
async function hubWithLateCheck(held: number) {
  let release!: () => void;
  const waiting = new Promise<void>((resolve) => (release = resolve));
  const counts = { checks: 0, answered: 0 };
  const hub = await startPushHub(
    {},
    {
      authenticator: (configured) => ({
        authenticate: async (token) => {
          if (++counts.checks === held) await waiting;
          const principal = await configured.authenticate(token);
          counts.answered++;
          return principal;
        },
      }),
    },
  );
  return { hub, release, counts };
}

/** Two stream requests sent at once on one connection (HTTP pipelining). */
async function pipelineTwo(base: string, token: string) {
  const request = `GET /v1/stream?topic=a.> HTTP/1.1\r\nhost: hub\r\nauthorization: Bearer ${token}\r\n\r\n`;
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(request + request);
  return socket;
}

describe('a client that leaves early', () => {
  it('leaves no stream behind when it hung up while the hub was still checking its token', async () => {
    // An identity provider that answers late: the first check waits until released.
    const { hub: other, release, counts } = await hubWithLateCheck(1);
    try {
      const token = await other.token('sse-early', READ);
      const url = `${other.base}/v1/stream?topic=a.>`;
      const leaving = new AbortController();
      const gone = fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: leaving.signal,
      }).catch(() => 'aborted');
      await waitFor(() => counts.checks === 1, 'the hub to check the token');
      leaving.abort();
      await expect(gone).resolves.toBe('aborted');
      await waitFor(
        async () => (await connectionCount(other.hub.server.server)) === 0,
        'the hub to see the socket close',
      );
      release();
      // The route goes on in the same microtask run as the answer: seen from a timer, the
      // request has been handled once its check is answered.
      await waitFor(() => counts.answered === 1, 'the late answer');
      expect(await other.metric('portico_push_connections', { transport: 'sse' })).toBe(0);
      const staying = new SseClient(url, token);
      await staying.next('ready');
      expect(await other.metric('portico_push_connections', { transport: 'sse' })).toBe(1);
      staying.close();
    } finally {
      // The leaked stream used to keep this waiting forever.
      await other.close();
    }
  });

  it('releases streams pipelined on one connection when it closes, and at shutdown', async () => {
    const other = await startPushHub();
    const streams = () => other.metric('portico_push_connections', { transport: 'sse' });
    const token = await other.token('sse-pipelined', READ);
    // Two streams asked for on one connection: the second waits its turn behind the first,
    // which only ends when the connection does.
    const pipeline = () => pipelineTwo(other.base, token);
    try {
      const leaving = await pipeline();
      await waitFor(async () => (await streams()) === 2, 'both pipelined streams to open');
      leaving.destroy();
      await waitFor(async () => (await streams()) === 0, 'both streams to be released');

      await pipeline();
      await waitFor(async () => (await streams()) === 2, 'both pipelined streams to open');
    } finally {
      // The queued stream used to keep the shutdown drain waiting forever.
      await other.close();
    }
    expect(await streams()).toBe(0);
  });

  it('opens no stream for a pipelined request whose connection closed while its token was checked', async () => {
    const { hub: other, release, counts } = await hubWithLateCheck(2);
    const streams = () => other.metric('portico_push_connections', { transport: 'sse' });
    try {
      const token = await other.token('sse-pipelined-early', READ);
      const socket = await pipelineTwo(other.base, token);
      await waitFor(async () => counts.checks === 2 && (await streams()) === 1, 'the first stream');
      socket.destroy();
      await waitFor(async () => (await streams()) === 0, 'the first stream to close');
      release();
      await waitFor(() => counts.answered === 2, 'the late answer');
      expect(await streams()).toBe(0);
    } finally {
      await other.close();
    }
  });
});
