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
  constructor() {
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
