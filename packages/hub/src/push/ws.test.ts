/** The WebSocket protocol end to end, with the `ws` client. */
import { connect } from 'node:net';
import { waitFor } from '../testing/wait-for.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ, startPushHub, WsClient, type PushHub } from './push-test-kit.ts';

let h: PushHub;
const clients: WsClient[] = [];
const open = async (tenant: string, scopes = READ) => {
  const client = await WsClient.open(`${h.wsBase}/v1/ws`, {
    authorization: `Bearer ${await h.token(tenant, scopes)}`,
  });
  clients.push(client);
  return client;
};

beforeAll(async () => {
  h = await startPushHub();
});
afterAll(async () => {
  for (const client of clients) client.close();
  await h.close();
});

const INC = 'incident.ticket.created';
const BILL = 'billing.invoice.paid';

describe('WebSocket /v1/ws', () => {
  it('welcomes, subscribes, delivers with the matched ids, and unsubscribes', async () => {
    const ws = await open('ws-a');
    const welcome = ws.inbox.items[0]!;
    expect(welcome).toMatchObject({
      type: 'welcome',
      heartbeatSeconds: 15,
      limits: { maxQueueBytes: 1048576 },
    });

    ws.send({ type: 'subscribe', id: 'inc', topic: 'incident.*.ticket.created', ref: 1 });
    ws.send({ type: 'subscribe', id: 'everything', topic: '>', ref: 'two' });
    expect(await ws.next('subscribed', (m) => m.id === 'inc')).toEqual({
      type: 'subscribed',
      id: 'inc',
      ref: 1,
    });
    await ws.next('subscribed', (m) => m.ref === 'two');

    const [inc, bill] = await h.publish('ws-a', [{ type: INC }, { type: BILL }]);
    const first = await ws.next('event', (m) => m.position === inc);
    expect((first.subscriptions as string[]).sort()).toEqual(['everything', 'inc']);
    expect(first.event).toMatchObject({ type: INC, tenantid: 'ws-a' });
    expect((await ws.next('event', (m) => m.position === bill)).subscriptions).toEqual([
      'everything',
    ]);

    ws.send({ type: 'unsubscribe', id: 'inc', ref: 3 });
    await ws.next('unsubscribed', (m) => m.ref === 3);
    const [inc2] = await h.publish('ws-a', [{ type: INC }]);
    expect((await ws.next('event', (m) => m.position === inc2)).subscriptions).toEqual([
      'everything',
    ]);
  });

  it('resumes with `from` on subscribe: exactly the events missed while away, then live', async () => {
    const before = await open('ws-resume');
    before.send({ type: 'subscribe', id: 'inc', topic: 'incident.>' });
    await before.next('subscribed');
    const [seen] = await h.publish('ws-resume', [{ type: INC }]);
    await before.next('event', (m) => m.position === seen);
    before.close();
    await before.closed;

    const missed = await h.publish('ws-resume', [{ type: INC }, { type: BILL }, { type: INC }]);
    const after = await open('ws-resume');
    after.send({ type: 'subscribe', id: 'inc', topic: 'incident.>', from: seen });
    const caughtUp = await after.next('caught-up');
    expect(caughtUp).toMatchObject({ subscriptions: ['inc'], position: missed[2] });
    const [live] = await h.publish('ws-resume', [{ type: INC }]);
    await after.next('event', (m) => m.position === live);
    expect(after.events().map((m) => m.position)).toEqual([missed[0], missed[2], live]);
    // The `subscribed` acknowledgement comes before any replayed event.
    const types = after.inbox.items.map((m) => m.type);
    expect(types.indexOf('subscribed')).toBeLessThan(types.indexOf('event'));
  });

  it("subscribes to a routing rule's push channel, with a content filter, and resumes it", async () => {
    const rule = await h.hub.server.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: await h.auth('ws-channel', ['rules:write']),
      payload: {
        name: 'alerts',
        pattern: { type: [INC] },
        targets: [{ kind: 'push', channel: 'alerts' }],
      },
    });
    expect(rule.statusCode, rule.body).toBe(201);
    const ws = await open('ws-channel');
    ws.send({ type: 'subscribe', id: 'all', channel: 'alerts' });
    ws.send({ type: 'subscribe', id: 'eu', channel: 'alerts', filter: { data: { eu: [true] } } });
    await ws.next('subscribed', (m) => m.id === 'all');
    await ws.next('subscribed', (m) => m.id === 'eu');

    await h.publish('ws-channel', [
      { type: INC, data: { eu: false }, id: 'us-1' },
      { type: BILL, id: 'bill-1' },
      { type: INC, data: { eu: true }, id: 'eu-1' },
    ]);
    const eu = await ws.next('event', (m) => (m.event as { id: string }).id === 'eu-1');
    expect(eu).toMatchObject({ topic: 'portico.dev.push.alerts', event: { type: INC } });
    expect((eu.subscriptions as string[]).sort()).toEqual(['all', 'eu']);
    const events = ws.events();
    expect(events.map((m) => m.event.id)).toEqual(['us-1', 'eu-1']); // copies only, never the bill
    expect(events[0]!.subscriptions).toEqual(['all']);

    // A later shell resumes the channel from the first copy's position.
    const later = await open('ws-channel');
    later.send({ type: 'subscribe', id: 'all', channel: 'alerts', from: events[0]!.position });
    await later.next('caught-up');
    expect(later.events().map((m) => m.event.id)).toEqual(['eu-1']);

    ws.send({ type: 'subscribe', id: 'bad', channel: 'No Such!', ref: 'c1' });
    expect(await ws.next('error', (m) => m.ref === 'c1')).toMatchObject({
      code: 'invalid',
      errors: [{ pointer: '/channel' }],
    });
    ws.send({ type: 'subscribe', id: 'both', channel: 'alerts', topic: 'a.>', ref: 'c2' });
    expect(await ws.next('error', (m) => m.ref === 'c2')).toMatchObject({
      errors: [{ pointer: '/channel', detail: expect.stringMatching(/not both/) }],
    });
  });

  it('answers bad messages with `error` (echoing ref) and keeps the connection', async () => {
    const ws = await open('ws-bad');
    ws.socket.send('{not json');
    expect(await ws.next('error', (m) => /not valid JSON/.test(String(m.detail)))).toMatchObject({
      code: 'invalid',
    });
    ws.send({ type: 'launch', ref: 'r1' });
    expect(await ws.next('error', (m) => m.ref === 'r1')).toMatchObject({ code: 'invalid' });
    ws.send({ type: 'subscribe', id: 'x', topic: 'incident..created', ref: 'r2' });
    const badTopic = await ws.next('error', (m) => m.ref === 'r2');
    expect(badTopic).toMatchObject({ code: 'invalid', id: 'x', errors: [{ pointer: '/topic' }] });
    ws.send({
      type: 'subscribe',
      id: 'f',
      topic: 'a.>',
      filter: { data: { n: [{ numeric: ['<'] }] } },
      ref: 'r3',
    });
    expect(
      ((await ws.next('error', (m) => m.ref === 'r3')).errors as Array<{ pointer: string }>)[0]!
        .pointer,
    ).toMatch(/^\/filter\/data\/n/);
    ws.send({ type: 'unsubscribe', id: 'nope', ref: 'r4' });
    expect(await ws.next('error', (m) => m.ref === 'r4')).toMatchObject({
      code: 'not-found',
      id: 'nope',
    });
    ws.send({ type: 'subscribe', id: 'a', topic: 'a.>' });
    await ws.next('subscribed');
    ws.send({ type: 'subscribe', id: 'a', topic: 'b.>', ref: 'r5' });
    expect(await ws.next('error', (m) => m.ref === 'r5')).toMatchObject({ code: 'conflict' });
    ws.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await ws.next('error', (m) => /JSON text frames/.test(String(m.detail)));
    // Too large for a double: it parsed as Infinity and was echoed as `"ref":null`.
    ws.socket.send('{"type":"ping","ref":1e999}');
    expect(await ws.next('error', (m) => /"ref"/.test(String(m.detail)))).toMatchObject({
      code: 'invalid',
    });
    expect(ws.inbox.items.some((m) => m.type === 'pong')).toBe(false);
    ws.send({ type: 'ping', ref: 'still-there' });
    await ws.next('pong', (m) => m.ref === 'still-there');
  });

  it('answers a filter too deep to serialise with `error`; the hub stays up', async () => {
    // JSON.stringify of this filter overflowed the stack in the message listener, which
    // nothing catches: the whole hub process exited.
    const ws = await open('ws-deep');
    ws.socket.send(
      `{"type":"subscribe","id":"deep","topic":"a.>","ref":"d1","filter":${'{"a":'.repeat(6000)}[1]${'}'.repeat(6000)}}`,
    );
    const refused = await ws.next('error', (m) => m.ref === 'd1');
    expect(refused).toMatchObject({ code: 'invalid', id: 'deep' });
    expect((refused.errors as Array<{ pointer: string; detail: string }>)[0]).toEqual({
      pointer: `/filter${'/a'.repeat(256)}`,
      detail: 'is nested deeper than 256 levels',
      in: 'body',
    });
    ws.send({ type: 'ping', ref: 'alive' });
    await ws.next('pong', (m) => m.ref === 'alive');
  });

  it('lists at most 20 field errors in one reply, however many fields are wrong', async () => {
    // 5000 unknown fields (40 KB) were answered by 5000 errors (over 500 KB).
    const ws = await open('ws-many-errors');
    const fields = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 0]));
    ws.send({ type: 'subscribe', id: 'x', topic: 'a.>', ref: 'm1', ...fields });
    const refused = await ws.next('error', (m) => m.ref === 'm1');
    expect(refused).toMatchObject({ code: 'invalid', id: 'x' });
    expect((refused.errors as Array<{ pointer: string }>).map((e) => e.pointer)).toEqual(
      Array.from({ length: 20 }, (_, i) => `/k${i}`),
    );
  });

  it('refreshes the credential in band, only to the same tenant and subject', async () => {
    const ws = await open('ws-refresh');
    const fresh = await h.hub.devIssuer!.mint({
      tenant: 'ws-refresh',
      scopes: READ,
      ttlSeconds: 7200,
    });
    ws.send({ type: 'refresh', token: fresh, ref: 1 });
    const refreshed = await ws.next('refreshed');
    expect(refreshed.ref).toBe(1);
    expect(Date.parse(String(refreshed.expiresAt))).toBeGreaterThan(Date.now() + 3600_000);

    ws.send({ type: 'refresh', token: await h.token('someone-else', READ), ref: 2 });
    expect(await ws.next('error', (m) => m.ref === 2)).toMatchObject({ code: 'forbidden' });
    ws.send({ type: 'refresh', token: 'garbage.token.here', ref: 3 });
    expect(await ws.next('error', (m) => m.ref === 3)).toMatchObject({ code: 'unauthorized' });
  });

  it('closes with 4001 when the token expires', async () => {
    const token = await h.hub.devIssuer!.mint({ tenant: 'ws-exp', scopes: READ, ttlSeconds: 2 });
    const ws = await WsClient.open(`${h.wsBase}/v1/ws`, { authorization: `Bearer ${token}` });
    await ws.next('expiring');
    expect(await ws.closed).toEqual({
      code: 4001,
      reason: expect.stringMatching(/^token-expired/),
    });
  });

  it('accepts a single-use ticket instead of a header (browsers cannot set one)', async () => {
    const token = await h.token('ws-ticket', READ);
    const { ticket } = (await (
      await fetch(`${h.base}/v1/stream/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { ticket: string };
    const ws = await WsClient.open(`${h.wsBase}/v1/ws?ticket=${ticket}`);
    clients.push(ws);
    const reused = new WsClient(`${h.wsBase}/v1/ws?ticket=${ticket}`);
    const refusal = (await reused.opened.catch((e: unknown) => e)) as {
      status: number;
      body: string;
    };
    expect(refusal.status).toBe(401);
    expect(JSON.parse(refusal.body)).toMatchObject({
      type: 'urn:portico:problem:unauthorized',
      status: 401,
    });
  });

  it('refuses upgrades past the tenant limit with 429 before the 101, however many arrive at once', async () => {
    const limited = await startPushHub({ push: { maxConnectionsPerTenant: 3 } });
    try {
      const auth = { authorization: `Bearer ${await limited.token('ws-burst', READ)}` };
      const burst = Array.from({ length: 12 }, () => new WsClient(`${limited.wsBase}/v1/ws`, auth));
      const outcomes = await Promise.all(
        burst.map((client) =>
          client.opened.then(
            // Accepted, then closed (1013, try again later) would show here as `closed`.
            () =>
              Promise.race([
                client.next('welcome').then(() => 'open'),
                client.closed.then(({ code }) => ({ closed: code })),
              ]),
            (error: { status?: number; body?: string }) => error,
          ),
        ),
      );
      const opened = burst.filter((_, i) => outcomes[i] === 'open');
      expect(opened).toHaveLength(3);
      const refusals = outcomes.filter((o) => o !== 'open') as Array<{
        status?: number;
        body?: string;
        closed?: number;
      }>;
      expect(refusals.map((r) => r.status ?? r)).toEqual(Array(9).fill(429));
      for (const refusal of refusals) {
        expect(JSON.parse(refusal.body!)).toMatchObject({
          type: 'urn:portico:problem:rate-limited',
          detail: expect.stringMatching(/already has 3 push connections/),
        });
      }
      // Those that got their 101 stay open: none is closed afterwards (1013, try again later).
      for (const client of opened) {
        client.send({ type: 'ping', ref: 'still-open' });
        await client.next('pong', (m) => m.ref === 'still-open');
      }
      expect(await limited.metric('portico_push_connections', { transport: 'ws' })).toBe(3);
      for (const client of opened) client.close();
      await Promise.all(opened.map((client) => client.closed));
    } finally {
      await limited.close();
    }
  });

  it('gives a ticket back when its handshake is refused (429): the same ticket opens once there is room', async () => {
    const limited = await startPushHub({ push: { maxConnectionsPerTenant: 1 } });
    try {
      const token = await limited.token('ws-limit-ticket', READ);
      const first = await WsClient.open(`${limited.wsBase}/v1/ws`, {
        authorization: `Bearer ${token}`,
      });
      const { ticket } = (await (
        await fetch(`${limited.base}/v1/stream/tickets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as { ticket: string };
      const refused = new WsClient(`${limited.wsBase}/v1/ws?ticket=${ticket}`);
      expect(((await refused.opened.catch((e: unknown) => e)) as { status: number }).status).toBe(
        429,
      );

      first.close();
      await first.closed;
      await waitFor(
        async () => (await limited.metric('portico_push_connections', { transport: 'ws' })) === 0,
        'the first socket to be released',
      );
      const retried = await WsClient.open(`${limited.wsBase}/v1/ws?ticket=${ticket}`);
      retried.close();
      await retried.closed;
      // Opened once, the ticket is spent.
      const reused = new WsClient(`${limited.wsBase}/v1/ws?ticket=${ticket}`);
      expect(((await reused.opened.catch((e: unknown) => e)) as { status: number }).status).toBe(
        401,
      );
    } finally {
      await limited.close();
    }
  });

  it('is not steered through the SSE control endpoint: a WebSocket connection id answers 404 there', async () => {
    // A WebSocket changes its subscriptions over its own socket, with refs its client
    // tracks and resubscribes on reconnect; one added over HTTP would arrive unasked for
    // and be lost on the next reconnect.
    const token = await h.token('ws-not-sse', READ);
    const auth = { authorization: `Bearer ${token}` };
    const ws = await open('ws-not-sse');
    const { connectionId } = (await ws.next('welcome')) as unknown as { connectionId: string };
    ws.send({ type: 'subscribe', id: 'own', topic: 'incident.>', ref: 1 });
    await ws.next('subscribed', (m) => m.ref === 1);

    const attempts: Response[] = [];
    for (const attempt of [
      () =>
        fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ id: 'tap', topic: '>' }),
        }),
      () => fetch(`${h.base}/v1/stream/${connectionId}/subscriptions`, { headers: auth }),
      () =>
        fetch(`${h.base}/v1/stream/${connectionId}/subscriptions/own`, {
          method: 'DELETE',
          headers: auth,
        }),
      () => fetch(`${h.base}/v1/stream/${connectionId}/refresh`, { method: 'POST', headers: auth }),
    ])
      attempts.push(await attempt());
    expect(attempts.map((r) => r.status)).toEqual([404, 404, 404, 404]);
    // The same answer as for an unknown id: nothing tells that this one exists.
    expect((await attempts[1]!.json()).detail).toBe(
      `no open push connection "${connectionId}" for this caller`,
    );

    // The socket's own subscriptions are untouched, and nothing arrived unasked for.
    const [position] = await h.publish('ws-not-sse', [{ type: INC }]);
    expect((await ws.next('event', (m) => m.position === position)).subscriptions).toEqual(['own']);
    expect(
      ws.inbox.items.filter((m) => m.type === 'subscribed' || m.type === 'unsubscribed'),
    ).toEqual([{ type: 'subscribed', id: 'own', ref: 1 }]);
  });

  it('refuses the handshake without events:read (403) or without credentials (401)', async () => {
    const publisher = new WsClient(`${h.wsBase}/v1/ws`, {
      authorization: `Bearer ${await h.token('ws-scope', ['events:publish'])}`,
    });
    expect(((await publisher.opened.catch((e: unknown) => e)) as { status: number }).status).toBe(
      403,
    );
    const anonymous = new WsClient(`${h.wsBase}/v1/ws`);
    expect(((await anonymous.opened.catch((e: unknown) => e)) as { status: number }).status).toBe(
      401,
    );
  });

  it('answers an upgrade whose target is not a URL path with 400; the hub stays up', async () => {
    // `new URL('//', base)` throws, and it threw in the 'upgrade' listener: the process exited.
    const answer = await rawUpgrade('//');
    expect(answer.status).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(answer.body)).toMatchObject({
      type: 'urn:portico:problem:validation',
      detail: 'the request target is not a valid URL path',
    });
    expect((await fetch(`${h.base}/v1/ws`)).status).toBe(426);
  });

  it('refuses a malformed handshake with 400 problem+json, before spending its ticket', async () => {
    // ws answered these itself in text/html, after the ticket had been redeemed.
    const token = await h.token('ws-handshake', READ);
    const target = `/v1/ws?ticket=${await mint(token)}`;
    const refusal = async (url: string, headers: Record<string, string>, detail: RegExp) => {
      const answer = await rawUpgrade(url, headers);
      expect(answer.status, JSON.stringify(headers)).toBe('HTTP/1.1 400 Bad Request');
      expect(answer.head).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/);
      expect(JSON.parse(answer.body)).toMatchObject({
        type: 'urn:portico:problem:validation',
        detail: expect.stringMatching(detail),
      });
    };
    await refusal(target, { 'sec-websocket-key': 'short' }, /Sec-WebSocket-Key/);
    await refusal(target, { 'sec-websocket-key': '' }, /Sec-WebSocket-Key/);
    await refusal(target, { 'sec-websocket-version': '99' }, /Sec-WebSocket-Version/);
    // ws checked these after the credential: the ticket was spent.
    await refusal(target, { 'sec-websocket-protocol': 'a,,b' }, /Sec-WebSocket-Protocol/);
    await refusal(target, { 'sec-websocket-protocol': 'a, a' }, /Sec-WebSocket-Protocol/);
    // Two tickets: the first was redeemed and the second ignored.
    await refusal(`${target}&ticket=another`, {}, /one stream ticket/);
    clients.push(await WsClient.open(`${h.wsBase}${target}`)); // the ticket still works
  });

  it('survives clients that reset the connection before an upgrade elsewhere is refused', async () => {
    // Node takes its error listener off an upgraded socket: the refusal's write to a reset
    // socket raised an 'error' nobody listened to, an uncaught exception.
    const uncaught: unknown[] = [];
    const monitor = (error: unknown) => uncaught.push(error);
    process.on('uncaughtExceptionMonitor', monitor);
    try {
      const { port } = new URL(h.base);
      for (let i = 0; i < 20; i++)
        await new Promise<void>((resolve) => {
          const socket = connect(Number(port), '127.0.0.1', () => {
            socket.write(upgradeRequest('/not-a-websocket'));
            socket.resetAndDestroy();
            resolve();
          });
          socket.on('error', () => {});
        });
      expect((await fetch(`${h.base}/v1/ws`)).status).toBe(426);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtExceptionMonitor', monitor);
    }
  });

  it('answers a plain GET on the WebSocket path with 426', async () => {
    const res = await fetch(`${h.base}/v1/ws`);
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toBe('websocket');
  });
});

async function mint(token: string): Promise<string> {
  const res = await fetch(`${h.base}/v1/stream/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await res.json()) as { ticket: string }).ticket;
}

/** A WebSocket handshake for `target`, with `headers` over the usual ones (empty: left out). */
function upgradeRequest(target: string, headers: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    host: '127.0.0.1',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
    ...headers,
  };
  const lines = Object.entries(all)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `${name}: ${value}\r\n`);
  return `GET ${target} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

/** Sends a WebSocket handshake on a raw socket; resolves to the status line, headers and body. */
function rawUpgrade(
  target: string,
  headers: Record<string, string> = {},
): Promise<{ status: string; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(h.base).port), '127.0.0.1', () =>
      socket.write(upgradeRequest(target, headers)),
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      const answer = Buffer.concat(chunks).toString();
      const end = answer.indexOf('\r\n\r\n');
      resolve({
        status: answer.slice(0, answer.indexOf('\r\n')),
        head: answer.slice(0, end),
        body: answer.slice(end + 4),
      });
    });
    socket.on('error', reject);
    socket.setTimeout(5_000, () => reject(new Error(`no answer to the upgrade of ${target}`)));
  });
}

describe('shutdown', () => {
  it('closes WebSockets with 1012 (service restart) and a reason', async () => {
    const other = await startPushHub();
    const ws = await WsClient.open(`${other.wsBase}/v1/ws`, {
      authorization: `Bearer ${await other.token('ws-down', READ)}`,
    });
    await other.close();
    expect(await ws.closed).toEqual({ code: 1012, reason: expect.stringMatching(/^shutdown: /) });
    await waitFor(() => ws.socket.readyState === ws.socket.CLOSED, 'the socket to close');
  });
});
