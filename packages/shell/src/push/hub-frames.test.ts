/**
 * Hostile or broken frames from the hub (a proxy's error page, a hub bug, a version skew):
 * each wire drops what it cannot read, says so once, and keeps the good messages flowing.
 * EventSource and WebSocket are faked; the frames are what a browser would hand over.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSseLink } from './sse-link.ts';
import type { LinkEvents, WireMessage } from './wire.ts';
import { openWsLink } from './ws-link.ts';

class FakeEventSource {
  static last: FakeEventSource;
  readonly listeners = new Map<string, (event: MessageEvent) => void>();
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  readonly url: URL;
  constructor(url: URL | string) {
    this.url = new URL(url);
    FakeEventSource.last = this;
  }
  addEventListener(type: string, listener: (event: MessageEvent) => void) {
    this.listeners.set(type, listener);
  }
  close() {
    this.closed = true;
  }
  /** The hub sends `event: <type>\ndata: <data>`. */
  emit(type: string, data: string) {
    const event = new MessageEvent(type, { data });
    if (type === 'message') this.onmessage?.(event);
    else this.listeners.get(type)?.(event);
  }
}

class FakeWebSocket {
  static last: FakeWebSocket;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  readonly sent: string[] = [];
  constructor() {
    FakeWebSocket.last = this;
  }
  send(text: string) {
    this.sent.push(text);
  }
  close() {}
  receive(data: unknown) {
    this.onmessage?.(new MessageEvent('message', { data }));
  }
}

const good: WireMessage = {
  subscriptions: ['billing.>'],
  position: 7,
  topic: 'billing.invoice.paid',
  event: { specversion: '1.0', id: 'e7', source: '/billing', type: 'billing.invoice.paid' },
};

function recorder() {
  const seen = {
    opened: 0,
    messages: [] as WireMessage[],
    caughtUp: [] as string[][],
    closed: [] as string[],
  };
  const events: LinkEvents = {
    open: () => void seen.opened++,
    message: (m) => void seen.messages.push(m),
    caughtUp: (ids) => void seen.caughtUp.push(ids),
    accepted() {},
    refused() {},
    closed: (reason) => void seen.closed.push(reason),
  };
  return { seen, events };
}

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal('fetch', async () => Response.json({ ticket: 'tk', position: 3 }));
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => {
  vi.unstubAllGlobals();
  warn.mockRestore();
});

const options = (events: LinkEvents) => ({
  hub: 'https://hub.example',
  getToken: () => 'token',
  initial: [],
  from: undefined,
  events,
});

describe('the SSE link, given frames it cannot read', () => {
  it('drops malformed event messages with one warning and delivers the good ones', async () => {
    const { seen, events } = recorder();
    await openSseLink(options(events));
    const source = FakeEventSource.last;
    source.emit('ready', '{"connectionId":"c1"}');
    for (const data of [
      '<html>502 Bad Gateway</html>',
      'null',
      '{}',
      '{"subscriptions":"billing.>","position":8,"topic":"t","event":{}}',
      '{"subscriptions":["billing.>"],"position":"9","topic":"t","event":{}}',
      JSON.stringify(good),
    ])
      expect(() => source.emit('message', data)).not.toThrow();
    expect(() => source.emit('caught-up', '{"subscriptions":"billing.>"}')).not.toThrow();

    expect(seen.messages).toEqual([good]);
    expect(seen.caughtUp).toEqual([]);
    expect(seen.closed).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/malformed SSE frame/);
  });

  it('ends the link when `ready` has no connection id, so that a fresh one is opened', async () => {
    const { seen, events } = recorder();
    await openSseLink(options(events));
    expect(() => FakeEventSource.last.emit('ready', 'not json')).not.toThrow();
    expect(seen.opened).toBe(0);
    expect(seen.closed).toEqual(['malformed-ready']);
    expect(FakeEventSource.last.closed).toBe(true);
  });
});

describe('the WebSocket link, given frames it cannot read', () => {
  it('drops binary, unparsable and malformed frames and delivers the good ones', async () => {
    const { seen, events } = recorder();
    await openWsLink(options(events));
    const socket = FakeWebSocket.last;
    socket.receive('{"type":"welcome"}');
    for (const data of [
      new Blob(['{"type":"event"}']),
      'not json',
      'null',
      '{"type":"event"}',
      '{"type":"caught-up","subscriptions":"billing.>"}',
      JSON.stringify({ type: 'event', ...good }),
    ])
      expect(() => socket.receive(data)).not.toThrow();

    expect(seen.opened).toBe(1);
    expect(seen.messages).toEqual([{ type: 'event', ...good }]);
    expect(seen.caughtUp).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/malformed WebSocket frame/);
  });
});

describe('the SSE link, given subscriptions the hub has not accepted yet', () => {
  it('puts only proven ones in the URL; the others join after ready, resumed after the same position, each refused alone', async () => {
    const posted: unknown[] = [];
    vi.stubGlobal('fetch', async (url: URL, init?: RequestInit) => {
      if (url.pathname === '/v1/stream/tickets')
        return Response.json({ ticket: 'tk', position: 3 });
      const body = JSON.parse(String(init!.body)) as { filter?: unknown };
      posted.push(body);
      // What the hub answers to a filter whose values are not arrays.
      return body.filter
        ? Response.json({ title: 'invalid filter' }, { status: 400 })
        : new Response(null, { status: 201 });
    });
    const { seen, events } = recorder();
    const accepted: string[] = [];
    const refused: string[] = [];
    events.accepted = (id) => void accepted.push(id);
    events.refused = (id) => void refused.push(id);
    const bad = { id: 'h:bad', topic: 'billing.>', filter: { data: { severity: 'high' } } };
    await openSseLink({
      ...options(events),
      from: 41, // resumed: every subscription owes what came after 41
      initial: [
        { spec: { id: 'incident.>', topic: 'incident.>' }, proven: true },
        { spec: { id: 'audit.>', topic: 'audit.>' } },
        { spec: bad },
      ],
    });
    const source = FakeEventSource.last;
    expect(JSON.parse(source.url.searchParams.get('subscriptions')!)).toEqual([
      { id: 'incident.>', topic: 'incident.>' },
    ]);
    expect(source.url.searchParams.get('from')).toBe('41');

    source.emit('ready', '{"connectionId":"c1"}');
    await vi.waitFor(() => expect(refused).toEqual(['h:bad']));
    expect(posted).toEqual([
      { id: 'audit.>', topic: 'audit.>', from: 41 },
      { ...bad, from: 41 },
    ]);
    expect(accepted).toEqual(['audit.>']);
    expect(seen.opened).toBe(1);
    expect(seen.closed).toEqual([]); // the stream stays open for everyone else
    expect(source.closed).toBe(false);
  });
});

describe('the SSE link, given a removal while a subscription joins', () => {
  it('sends the DELETE only after the POST was answered', async () => {
    const requests: string[] = [];
    let answerPost!: () => void;
    vi.stubGlobal('fetch', async (url: URL, init?: RequestInit) => {
      if (url.pathname === '/v1/stream/tickets')
        return Response.json({ ticket: 'tk', position: 3 });
      requests.push(`${init!.method} ${url.pathname}`);
      if (init!.method === 'POST') await new Promise<void>((resolve) => (answerPost = resolve));
      return new Response(null, { status: init!.method === 'POST' ? 201 : 204 });
    });
    const { events } = recorder();
    const link = await openSseLink({
      ...options(events),
      from: 41,
      initial: [{ spec: { id: 'audit.>', topic: 'audit.>' } }], // not proven: joins after ready
    });
    // The tab that wanted it went away before the hub said ready.
    const removed = link.remove('audit.>');
    FakeEventSource.last.emit('ready', '{"connectionId":"c1"}');
    await vi.waitFor(() => expect(requests).toEqual(['POST /v1/stream/c1/subscriptions']));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(requests).toHaveLength(1); // a DELETE now could overtake the POST
    answerPost();
    await removed;
    expect(requests).toEqual([
      'POST /v1/stream/c1/subscriptions',
      'DELETE /v1/stream/c1/subscriptions/audit.%3E',
    ]);
  });
});

describe('the WebSocket link, given a subscribe the hub refuses', () => {
  it('names the refused subscription by the ref of its subscribe', async () => {
    const { events } = recorder();
    const refused: Array<[string, unknown]> = [];
    events.refused = (id, error) => void refused.push([id, error]);
    await openWsLink({
      ...options(events),
      from: 41,
      initial: [
        { spec: { id: 'incident.>', topic: 'incident.>' } },
        { spec: { id: 'h:bad', topic: 'billing.>', filter: { data: { severity: 'high' } } } },
      ],
    });
    const socket = FakeWebSocket.last;
    socket.receive('{"type":"welcome","connectionId":"c1"}');
    await vi.waitFor(() => expect(socket.sent).toHaveLength(2));
    const [good, bad] = socket.sent.map((text) => JSON.parse(text) as { ref: number });
    expect(bad).toMatchObject({ type: 'subscribe', id: 'h:bad', from: 41 });

    socket.receive(JSON.stringify({ type: 'subscribed', id: 'incident.>', ref: good!.ref }));
    const error = {
      type: 'error',
      code: 'invalid',
      detail: 'invalid filter',
      id: 'h:bad',
      ref: bad!.ref,
    };
    socket.receive(JSON.stringify(error));
    // A limit is not a refusal for good: the next connection asks again.
    socket.receive(JSON.stringify({ type: 'error', code: 'limit', detail: 'too many', ref: 99 }));
    expect(refused).toEqual([['h:bad', error]]);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
