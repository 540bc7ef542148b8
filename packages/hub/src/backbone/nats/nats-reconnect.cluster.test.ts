import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateNats } from '../../../test/cluster/engines.ts';
import { StoreUnavailableError } from '../../store/store-unavailable-error.ts';
import type { AppendInput, LogEntry } from '../event-log.ts';
import { openNatsEventLog } from './nats-event-log.ts';

// A private nats-server (own port, own store directory), so that killing and restarting
// it disturbs nobody else's tests.
const nats = new PrivateNats();

beforeAll(() => nats.start());
afterAll(() => nats.dispose());

const event = (id: string): AppendInput => ({
  tenant: 'acme',
  topic: 'orders.dev.order.created',
  partitionKey: 'acme',
  dedupeKey: `/restart\u0000${id}`,
  event: {
    specversion: '1.0',
    id,
    source: '/restart',
    type: 'orders.order.created',
    time: '2026-01-01T00:00:00.000Z',
    tenantid: 'acme',
    correlationid: id,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    recordedtime: '2026-01-01T00:00:00.001Z',
    data: { id },
  },
});

describe('NATS event log across a NATS restart', () => {
  it('fails calls as unavailable while NATS is down, then carries on by itself', async () => {
    const log = await openNatsEventLog({
      servers: nats.url,
      requestTimeoutMs: 1_000,
    });
    const listener = await openNatsEventLog({
      servers: nats.url,
      requestTimeoutMs: 1_000,
    });
    const seen: LogEntry[] = [];
    try {
      listener.onAppend((entries) => seen.push(...entries));
      await log.ensureGroup({
        name: 'deliveries',
        ackWaitMs: 30_000,
        maxDeliver: 0,
        startAt: 'beginning',
      });
      const before = await log.append([event('b1'), event('b2')]);
      await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(2);

      await nats.kill();
      expect(await log.ready()).toBe(false);
      await expect(log.append([event('while-down')])).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(log.read({ after: 0, limit: 10 })).rejects.toBeInstanceOf(StoreUnavailableError);

      await nats.start();
      await expect.poll(() => log.ready(), { timeout: 15_000, interval: 250 }).toBe(true);
      const after = await log.append([event('a1')]);
      // The append that failed while NATS was down was never acknowledged; retrying it is safe.
      await log.append([event('while-down')]);

      // Acknowledged events survived the kill; the durable group kept its cursor.
      // (nats.js may still deliver the timed-out publish after the reconnect, before
      // a1; dedupe then makes the retry a duplicate, so 'while-down' is there once.)
      const ids = (entries: LogEntry[]) => [
        ...entries.slice(0, 2).map((e) => e.event.id),
        ...entries
          .slice(2)
          .map((e) => e.event.id)
          .sort(),
      ];
      const read = (await log.read({ after: 0, limit: 10 })).entries;
      expect(ids(read)).toEqual(['b1', 'b2', 'a1', 'while-down']);
      expect(read.slice(0, 2).map((e) => e.position)).toEqual(before.map((r) => r.position));
      expect(read.map((e) => e.position)).toContain(after[0]!.position);
      const pulled = await log.pull('deliveries', 'c1', 10, 0);
      expect(ids(pulled)).toEqual(['b1', 'b2', 'a1', 'while-down']);

      // The other node's onAppend consumer was re-established by nats.js.
      await expect
        .poll(() => ids([...seen].sort((x, y) => x.position - y.position)), {
          timeout: 20_000,
          interval: 250,
        })
        .toEqual(['b1', 'b2', 'a1', 'while-down']);
    } finally {
      await Promise.all([log.close(), listener.close()]);
    }
  }, 60_000);
});
