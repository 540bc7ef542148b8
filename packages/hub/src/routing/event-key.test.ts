import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../backbone/event-log.ts';
import { deliveryEventKey } from './event-key.ts';

const entry = (id: string, appendedAt: number, tenant = 'acme'): LogEntry => ({
  position: 7,
  partition: 0,
  tenant,
  topic: 'orders.dev.order.placed',
  appendedAt,
  event: {
    specversion: '1.0',
    id,
    source: '/shop',
    type: 'orders.order.placed',
    tenantid: tenant,
  } as LogEntry['event'],
});

describe('delivery event key', () => {
  it('is the same each time the log offers the same entry', () => {
    const at = Date.UTC(2026, 11, 4, 12, 0, 0, 123);
    expect(deliveryEventKey(entry('e-1', at))).toBe(deliveryEventKey(entry('e-1', at)));
  });

  it('sorts by the time the log accepted the entry, whatever the event ids', () => {
    const t = Date.UTC(2026, 11, 4, 12, 0, 0, 0);
    const keys = [
      deliveryEventKey(entry('zzz', t)),
      deliveryEventKey(entry('aaa', t + 1)),
      deliveryEventKey(entry('mmm', t + 1000)),
      deliveryEventKey(entry('000', t + 86_400_000)),
    ];
    expect([...keys].sort()).toEqual(keys);
  });

  it('tells apart entries accepted in the same millisecond, and tenants', () => {
    const t = Date.UTC(2026, 11, 4);
    const keys = new Set([
      deliveryEventKey(entry('e-1', t)),
      deliveryEventKey(entry('e-2', t)),
      deliveryEventKey(entry('e-1', t, 'globex')),
    ]);
    expect(keys.size).toBe(3);
  });

  it('keeps its fixed-width time prefix, so it never equals a plain digest of older rows', () => {
    const key = deliveryEventKey(entry('e-1', Date.UTC(2026, 11, 4)));
    expect(key).toMatch(/^[0-9a-z]{9}\.[A-Za-z0-9_-]{43}$/);
  });
});
