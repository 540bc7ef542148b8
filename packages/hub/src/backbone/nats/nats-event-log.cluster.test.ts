import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresDatabase } from '../../store/postgres/postgres-database.ts';
import { openSqliteDatabase } from '../../store/sqlite/sqlite-database.ts';
import type { SqlDatabase } from '../../store/sql-database.ts';
import { describeEventLogContract } from '../event-log.contract.ts';
import type { AppendInput, EventLog, LogEntry } from '../event-log.ts';
import { StoreUnavailableError } from '../../store/store-unavailable-error.ts';
import { EventTooLargeError } from '../event-too-large-error.ts';
import { HEADER_ROOM_BYTES } from './appender.ts';
import { openNatsEventLog, type NatsEventLogOptions } from './nats-event-log.ts';
import { openSqlDedupeStore } from './sql-dedupe-store.ts';

// NATS with JetStream at 127.0.0.1:4222. Every log gets its own stream and subject
// prefix (streams may not overlap), deleted afterwards. The dedupe record lives in a
// temporary SQLite store, or (the cluster-mode pairing) in a PostgreSQL database made for
// this run at 127.0.0.1:5432 and dropped at the end.
const SERVERS = process.env.PORTICO_TEST_NATS ?? 'nats://127.0.0.1:4222';
const POSTGRES = process.env.PORTICO_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const pgDatabase = `portico_nats_${randomBytes(4).toString('hex')}`;
let pgCreated: Promise<unknown> | undefined;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${POSTGRES}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  if (pgCreated) await admin((c) => c.query(`drop database if exists ${pgDatabase} with (force)`));
});

type Fixture = {
  options: NatsEventLogOptions;
  /** Moves the logs' clock forward (Portico's dedupe window; JetStream keeps real time). */
  advance: (ms: number) => void;
  cleanup: () => Promise<void>;
};

const DEDUPE_WINDOW_MS = 60_000;

async function fixture(store: 'sqlite' | 'postgres' = 'sqlite'): Promise<Fixture> {
  const id = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'portico-nats-'));
  let db: SqlDatabase;
  if (store === 'postgres') {
    await (pgCreated ??= admin((c) => c.query(`create database ${pgDatabase}`)));
    db = openPostgresDatabase(`${POSTGRES}/${pgDatabase}`, { poolSize: 4 });
  } else db = openSqliteDatabase(join(dir, 'store.sqlite'));
  const stream = `PORTICO_TEST_${id}`;
  let offset = 0;
  const options: NatsEventLogOptions = {
    servers: SERVERS,
    stream,
    subjectPrefix: `portico_test_${id}`,
    dedupe: await openSqlDedupeStore(db, { stream }),
    dedupeWindowMs: DEDUPE_WINDOW_MS,
    clock: () => Date.now() + offset,
  };
  return {
    options,
    advance: (ms) => void (offset += ms),
    cleanup: async () => {
      const nc = await connect({ servers: SERVERS });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const store of ['sqlite', 'postgres'] as const)
  describeEventLogContract(`nats (dedupe record on ${store})`, async () => {
    const f = await fixture(store);
    let log = await openNatsEventLog(f.options);
    return {
      log,
      reopen: async () => {
        await log.close();
        log = await openNatsEventLog(f.options);
        return log;
      },
      cleanup: async () => {
        await log.close();
        await f.cleanup();
      },
      // Portico's window moves with this clock; JetStream's (real time) does not, so a
      // re-append after it gets a fresh message id (see appender.ts).
      clock: { advance: f.advance, dedupeWindowMs: DEDUPE_WINDOW_MS, movesEventAges: false },
    };
  });

const event = (tenant: string, id: string): AppendInput => ({
  tenant,
  topic: 'orders.dev.order.created',
  partitionKey: tenant,
  dedupeKey: `/test\u0000${id}`,
  event: {
    specversion: '1.0',
    id,
    source: '/test',
    type: 'orders.order.created',
    time: '2026-01-01T00:00:00.000Z',
    tenantid: tenant,
    correlationid: id,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    recordedtime: '2026-01-01T00:00:00.001Z',
    data: { id },
  },
});

describe('NATS event log across nodes', () => {
  it('announces an event appended on one node to onAppend listeners on another', async () => {
    const f = await fixture('postgres');
    const node1 = await openNatsEventLog({ ...f.options, name: 'node-1' });
    const node2 = await openNatsEventLog({ ...f.options, name: 'node-2' });
    try {
      const seen: LogEntry[] = [];
      node2.onAppend((entries) => seen.push(...entries));
      const results = await node1.append([
        event('acme', 'a'),
        event('globex', 'b'),
        event('acme', 'a'),
      ]);
      await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(2);
      expect(seen.map((e) => [e.position, e.tenant, e.event.id])).toEqual([
        [results[0]!.position, 'acme', 'a'],
        [results[1]!.position, 'globex', 'b'],
      ]);
      // The dedupe record is shared too: node 2 sees node 1's event as a duplicate.
      const [again] = await node2.append([event('acme', 'a')]);
      expect(again).toMatchObject({ duplicate: true, position: results[0]!.position });
      expect((await node2.getById('acme', 'a'))?.position).toBe(results[0]!.position);
    } finally {
      await Promise.all([node1.close(), node2.close()]);
      await f.cleanup();
    }
  });

  it('shares one consumer group between nodes: each event is leased to one of them', async () => {
    const f = await fixture('postgres');
    const nodes: EventLog[] = await Promise.all(
      [1, 2, 3].map((n) => openNatsEventLog({ ...f.options, name: `node-${n}` })),
    );
    try {
      await nodes[0]!.ensureGroup({
        name: 'deliveries',
        ackWaitMs: 30_000,
        maxDeliver: 0,
        startAt: 'beginning',
      });
      await nodes[0]!.append(Array.from({ length: 30 }, (_, i) => event('acme', `e${i}`)));
      const pulled = (
        await Promise.all(nodes.map((n, i) => n.pull('deliveries', `c${i}`, 12, 0)))
      ).flat();
      expect(pulled).toHaveLength(30);
      expect(new Set(pulled.map((p) => p.position)).size).toBe(30);
      // A token pulled through one node can be settled through another.
      for (const [i, p] of pulled.entries())
        expect(await nodes[(i + 1) % 3]!.ack('deliveries', p.token)).toBe(true);
      expect(await nodes[2]!.getGroup('deliveries')).toMatchObject({ pending: 0, inflight: 0 });
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await f.cleanup();
    }
  });

  it('settles a whole batch sent at once (acks, naks and terms batched into one round trip)', async () => {
    const f = await fixture('sqlite');
    const log = await openNatsEventLog(f.options);
    try {
      await log.ensureGroup({
        name: 'bulk',
        ackWaitMs: 30_000,
        maxDeliver: 0,
        startAt: 'beginning',
      });
      await log.append(Array.from({ length: 60 }, (_, i) => event('acme', `bulk-${i}`)));
      const pulled = await log.pull('bulk', 'c1', 60, 0);
      expect(pulled).toHaveLength(60);
      // Issued in one tick, as the router does: every third is nacked, every fifth termed.
      const outcomes = await Promise.all(
        pulled.map((p, i) =>
          i % 3 === 0
            ? log.nack('bulk', p.token, 0)
            : i % 5 === 0
              ? log.term('bulk', p.token)
              : log.ack('bulk', p.token),
        ),
      );
      expect(outcomes.every(Boolean)).toBe(true);
      // Settled before the calls returned: only the nacked ones come back, at once.
      const again = await log.pull('bulk', 'c1', 60, 0);
      expect(again.map((p) => p.event.id).sort()).toEqual(
        pulled
          .filter((_, i) => i % 3 === 0)
          .map((p) => p.event.id)
          .sort(),
      );
      expect(again.every((p) => p.deliveryCount === 2)).toBe(true);
      await Promise.all(again.map((p) => log.ack('bulk', p.token)));
      expect(await log.getGroup('bulk')).toMatchObject({ pending: 0, inflight: 0 });
    } finally {
      await log.close();
      await f.cleanup();
    }
  });

  it('announces what JetStream stored even when the append then fails (dedupe record down)', async () => {
    const f = await fixture('sqlite');
    const real = f.options.dedupe!;
    const log = await openNatsEventLog({
      ...f.options,
      dedupe: {
        ...real,
        record: () => Promise.reject(new StoreUnavailableError('the state store is down')),
      },
    });
    try {
      const seen: LogEntry[] = [];
      log.onAppend((entries) => seen.push(...entries));
      await expect(log.append([event('acme', 'x1'), event('acme', 'x2')])).rejects.toMatchObject({
        name: 'StoreUnavailableError',
      });
      // In the log all the same (consumer groups will deliver them): announced once each.
      await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen.map((e) => e.event.id)).toEqual(['x1', 'x2']);
      expect((await log.read({ after: 0, limit: 10 })).entries).toHaveLength(2);
    } finally {
      await log.close();
      await f.cleanup();
    }
  });

  it("refuses an event over the server's max_payload for good, storing nothing of its batch", async () => {
    // nats.js threw a plain error for it on every attempt, after the batch's earlier
    // events had been published; callers could not tell it from a passing fault.
    const f = await fixture('sqlite');
    const log = await openNatsEventLog(f.options);
    try {
      const big = event('acme', 'big');
      big.event.data = { blob: 'x'.repeat(1_100_000) }; // NATS' default max_payload: 1 MiB
      const refused = await log.append([event('acme', 'small'), big]).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(EventTooLargeError);
      expect(refused).toMatchObject({ index: 1, limit: 1_048_576 - HEADER_ROOM_BYTES });
      expect((refused as Error).message).toMatch(/max_payload of 1048576 bytes/);
      expect((await log.read({ after: 0, limit: 10 })).entries).toEqual([]);
      // Under events.maxEventBytes, that is the limit named.
      const limited = await openNatsEventLog({ ...f.options, maxEventBytes: 2_000 });
      try {
        const medium = event('acme', 'medium');
        medium.event.data = { blob: 'x'.repeat(3_000) };
        await expect(limited.append([medium])).rejects.toMatchObject({
          name: 'EventTooLargeError',
          limit: 2_000,
          limitSource: 'events.maxEventBytes',
        });
      } finally {
        await limited.close();
      }
    } finally {
      await log.close();
      await f.cleanup();
    }
  });

  it('does not open when maxEventBytes does not fit in one NATS message', async () => {
    const f = await fixture('sqlite');
    try {
      await expect(
        openNatsEventLog({ ...f.options, maxEventBytes: 1_048_576 }),
      ).rejects.toMatchObject({
        name: 'MaxEventBytesOverMaxPayloadError',
        maxEventBytes: 1_048_576,
        maxPayload: 1_048_576,
      });
      // What does fit opens.
      const log = await openNatsEventLog({
        ...f.options,
        maxEventBytes: 1_048_576 - HEADER_ROOM_BYTES,
      });
      await log.close();
    } finally {
      await f.cleanup();
    }
  });

  it('fails with StoreUnavailableError when NATS cannot be reached', async () => {
    await expect(
      openNatsEventLog({ servers: 'nats://127.0.0.1:1', stream: 'X' }),
    ).rejects.toMatchObject({
      name: 'StoreUnavailableError',
    });
  });
});
