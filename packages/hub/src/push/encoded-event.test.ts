import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../backbone/event-log.ts';
import { EncodedEvent, frameText } from './encoded-event.ts';

const entry: LogEntry = {
  position: 42,
  partition: 3,
  tenant: 'acme',
  topic: 'incident.dev.ticket.created',
  appendedAt: 0,
  event: {
    specversion: '1.0',
    id: 'e1',
    source: '/s',
    type: 'incident.ticket.created',
    time: '2026-01-01T00:00:00Z',
    tenantid: 'acme',
    correlationid: 'e1',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    recordedtime: '2026-01-01T00:00:00Z',
    data: { text: 'line one\nline two' },
  },
};

describe('EncodedEvent', () => {
  it('frames SSE with id and one data line (JSON escapes newlines), naming the subscriptions', () => {
    const frame = new EncodedEvent(entry).sse(['a', 'b'], true).toString();
    expect(frame.startsWith('id: 42\ndata: {')).toBe(true);
    expect(frame.endsWith('}\n\n')).toBe(true);
    expect(frame.split('\n')).toHaveLength(4);
    const body = JSON.parse(frame.slice(frame.indexOf('data: ') + 6));
    expect(body).toEqual({
      subscriptions: ['a', 'b'],
      position: 42,
      topic: entry.topic,
      event: entry.event,
    });
  });

  it('frames WebSocket messages as {"type":"event", …}', () => {
    const message = JSON.parse(new EncodedEvent(entry).ws(['a']).toString());
    expect(message).toMatchObject({ type: 'event', subscriptions: ['a'], position: 42 });
    expect(message.event.data.text).toBe('line one\nline two');
  });

  it('builds each frame once and hands every connection the same Buffer', () => {
    const encoded = new EncodedEvent(entry);
    expect(encoded.ws(['alerts'])).toBe(encoded.ws(['alerts']));
    expect(encoded.sse(['alerts'], true)).toBe(encoded.sse(['alerts'], true));
    expect(encoded.sse(['alerts'], false)).not.toBe(encoded.sse(['alerts'], true));
    expect(encoded.sse(['alerts'], false).toString().startsWith('data: ')).toBe(true);
    expect(encoded.ws(['other'])).not.toBe(encoded.ws(['alerts']));
  });
});

describe('frameText', () => {
  it('writes RFC 6455 headers for each length class: 7-bit, 16-bit and 64-bit lengths', () => {
    const header = (length: number) => [...frameText(Buffer.alloc(length, 'a')).subarray(0, 10)];
    expect(header(0).slice(0, 2)).toEqual([0x81, 0]);
    expect(header(125).slice(0, 3)).toEqual([0x81, 125, 0x61]);
    expect(header(126).slice(0, 5)).toEqual([0x81, 126, 0, 126, 0x61]);
    expect(header(65535).slice(0, 5)).toEqual([0x81, 126, 0xff, 0xff, 0x61]);
    expect(header(65536)).toEqual([0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    const big = frameText(Buffer.alloc(70000, 'a'));
    expect(big.length).toBe(70010);
    expect(big.readBigUInt64BE(2)).toBe(70000n);
  });
});
