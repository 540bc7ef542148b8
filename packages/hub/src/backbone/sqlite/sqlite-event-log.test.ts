import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendInput, ConsumerGroupSpec, EventLog, PulledEvent } from '../event-log.ts';
import { ConsumerGroupNotFoundError } from '../consumer-group-not-found.ts';
import { describeEventLogContract } from '../event-log.contract.ts';
import { DEFAULT_SCAN_ROWS } from './scan-window.ts';
import { openSqliteEventLog, type SqliteEventLog } from './sqlite-event-log.ts';

const DEDUPE_WINDOW_MS = 60 * 60 * 1000;
/** A small scan bound, so the contract's tests reach it with a few dozen events. */
const SCAN_ROWS = 16;
const WAKE_GUARD_MS = 5_000;

describeEventLogContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-log-'));
  const path = join(dir, 'events.db');
  let offset = 0;
  const clock = () => Date.now() + offset;
  const openLog = () =>
    openSqliteEventLog({
      path,
      partitions: 8,
      dedupeWindowMs: DEDUPE_WINDOW_MS,
      clock,
      scanRows: SCAN_ROWS,
    });
  let current: EventLog = openLog();
  return {
    log: current,
    async reopen() {
      await current.close();
      current = openLog();
      return current;
    },
    async cleanup() {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
    clock: { advance: (ms) => void (offset += ms), dedupeWindowMs: DEDUPE_WINDOW_MS },
    scanRows: SCAN_ROWS,
  };
});

describe('SQLite event log specifics', () => {
  let dir: string;
  let log: SqliteEventLog;
  const path = () => join(dir, 'events.db');
  let counter = 0;
  const input = (id = `e-${++counter}`, data: unknown = { n: counter }): AppendInput => ({
    tenant: 'acme',
    topic: 'orders.dev.order.created',
    partitionKey: 'acme',
    dedupeKey: `/src\u0000${id}`,
    event: {
      specversion: '1.0',
      id,
      source: '/src',
      type: 'orders.order.created',
      time: '2026-01-01T00:00:00Z',
      tenantid: 'acme',
      correlationid: id,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      recordedtime: '2026-01-01T00:00:00Z',
      data,
    },
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-log-'));
    log = openSqliteEventLog({ path: path() });
  });
  afterEach(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('group-commits concurrent appends into fewer transactions than calls', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => log.append([input(), input()])),
    );
    expect(results.flat()).toHaveLength(100);
    const stats = log.stats();
    expect(stats.appendCalls).toBe(50);
    expect(stats.events).toBe(100);
    expect(stats.commits).toBeLessThan(50);
  });

  it('fails only the bad batch of a group commit; the others commit with it', async () => {
    const settled = await Promise.allSettled([
      log.append([input('a1'), input('a2')]),
      log.append([input('b1'), input('b2', { big: 1n })]), // fails half-way, after b1 was written
      log.append([input('c1')]),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log.stats().commits).toBe(1);
    const ids = (await log.read({ after: 0, limit: 10 })).entries.map((e) => e.event.id);
    expect(ids).toEqual(['a1', 'a2', 'c1']);
    // Positions stay dense: the rolled-back batch consumed none.
    const positions = (await log.read({ after: 0, limit: 10 })).entries.map((e) => e.position);
    expect(positions).toEqual([1, 2, 3]);
  });

  it('tells a duplicate across the batches of one group commit apart (all batches written together otherwise)', async () => {
    const [first, second, third] = await Promise.all([
      log.append([input('x1'), input('x2')]),
      log.append([input('y1'), input('x2')]), // x2 again, in the same transaction
      log.append([input('z1')]),
    ]);
    expect(log.stats().commits).toBe(1);
    expect(first!.map((r) => [r.position, r.duplicate])).toEqual([
      [1, false],
      [2, false],
    ]);
    expect(second!.map((r) => [r.position, r.duplicate])).toEqual([
      [3, false],
      [2, true],
    ]);
    expect(third!.map((r) => [r.position, r.duplicate])).toEqual([[4, false]]);
    const ids = (await log.read({ after: 0, limit: 10 })).entries.map((e) => e.event.id);
    expect(ids).toEqual(['x1', 'x2', 'y1', 'z1']);
  });

  it('stores a batch longer than one multi-row statement; a duplicate past the first chunk leaves positions dense', async () => {
    const stored = await log.append([input('first')]);
    const fresh = Array.from({ length: 150 }, () => input());
    const results = await log.append(fresh);
    expect(results.map((r) => r.position)).toEqual(
      Array.from({ length: 150 }, (_, i) => stored[0]!.position + 1 + i),
    );
    // 100 fresh events (a full chunk and more), then the first event again, then more.
    const mixed = [
      ...Array.from({ length: 100 }, () => input()),
      input('first'),
      input(),
      input('first'),
    ];
    const again = await log.append(mixed);
    expect(again.map((r) => r.duplicate)).toEqual([
      ...Array.from({ length: 100 }, () => false),
      true,
      false,
      true,
    ]);
    expect(again[100]!.position).toBe(stored[0]!.position);
    expect(again[101]!.position).toBe(results[149]!.position + 101);
    const all = (await log.read({ after: 0, limit: 1000 })).entries;
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 252 }, (_, i) => i + 1));
    expect(log.stats().events).toBe(252);
  });

  it("counts a group's pending events among the next DEFAULT_SCAN_ROWS, not its whole backlog", async () => {
    await log.ensureGroup({ name: 'behind', ackWaitMs: 1000, maxDeliver: 0, startAt: 'end' });
    for (let i = 0; i <= DEFAULT_SCAN_ROWS; i += 1000)
      await log.append(Array.from({ length: 1000 }, () => input()));
    expect((await log.bounds()).last).toBeGreaterThan(DEFAULT_SCAN_ROWS);
    const behind = { pending: DEFAULT_SCAN_ROWS, pendingIsLowerBound: true };
    expect(await log.getGroup('behind')).toMatchObject(behind);
    expect((await log.listGroups())[0]).toMatchObject(behind);
  });

  it('lets the event loop run other work between the lag counts of listGroups (a /metrics refresh)', async () => {
    for (const name of ['a', 'b', 'c'])
      await log.ensureGroup({ name, ackWaitMs: 1000, maxDeliver: 0, startAt: 'beginning' });
    // Each group's count may take a scan window's work: 100 groups must not be one block.
    let ranMeanwhile = 0;
    const listing = log.listGroups();
    setImmediate(() => ranMeanwhile++);
    expect((await listing).map((g) => g.name)).toEqual(['a', 'b', 'c']);
    expect(ranMeanwhile).toBe(1);
  });

  it('gives each group its own copy of a freshly appended event, equal to the stored one', async () => {
    await log.ensureGroup({ name: 'g1', ackWaitMs: 30_000, maxDeliver: 0, startAt: 'beginning' });
    await log.ensureGroup({ name: 'g2', ackWaitMs: 30_000, maxDeliver: 0, startAt: 'beginning' });
    await log.append([input('fresh-1'), input('fresh-2')]);
    const [first] = await log.pull('g1', 'c', 10, 0).then((p) => [p]);
    const [second] = await log.pull('g2', 'c', 10, 0).then((p) => [p]);
    const stored = (await log.read({ after: 0, limit: 10 })).entries;
    expect(first!.map((p) => p.event)).toEqual(stored.map((e) => e.event));
    expect(second!.map((p) => p.event)).toEqual(stored.map((e) => e.event));
    first![0]!.event.mutated = true;
    expect(second![0]!.event.mutated).toBeUndefined();
    expect(first!.map((p) => [p.position, p.partition, p.tenant, p.topic])).toEqual(
      stored.map((e) => [e.position, e.partition, e.tenant, e.topic]),
    );
  });

  it('rejects malformed input before it reaches a commit', async () => {
    const bad = { ...input(), topic: 'orders.*.order.created' };
    await expect(log.append([bad])).rejects.toThrow(/wildcards/);
    await expect(log.append([{ ...input(), tenant: '' }])).rejects.toThrow(/tenant/);
    expect(log.stats().commits).toBe(0);
  });

  it('keeps events, dedupe records and groups across close and reopen', async () => {
    const [original] = await log.append([input('kept'), input('other')]);
    await log.ensureGroup({ name: 'g', ackWaitMs: 60_000, maxDeliver: 0, startAt: 'beginning' });
    const [pulled] = await log.pull('g', 'c1', 1, 0);
    await log.close();

    log = openSqliteEventLog({ path: path() });
    expect((await log.read({ after: 0, limit: 10 })).entries.map((e) => e.event.id)).toEqual([
      'kept',
      'other',
    ]);
    expect(await log.append([input('kept')])).toEqual([
      expect.objectContaining({ duplicate: true, position: original!.position }),
    ]);
    // Leases live in the database: the token handed out before the restart still acks.
    expect(await log.ack('g', pulled!.token)).toBe(true);
    expect((await log.pull('g', 'c1', 10, 0)).map((e) => e.event.id)).toEqual(['other']);
  });

  it('stores events in WAL mode with the schema described in schema.ts', async () => {
    await log.append([input()]);
    const peek = new DatabaseSync(path(), { readOnly: true });
    try {
      expect(peek.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      const row = peek
        .prepare('SELECT tenant, topic, event_id, bytes, body FROM events')
        .get() as Record<string, unknown>;
      expect(row).toMatchObject({ tenant: 'acme', topic: 'orders.dev.order.created' });
      expect(row['bytes']).toBe(Buffer.byteLength(row['body'] as string));
    } finally {
      peek.close();
    }
  });

  it('drops a key row once its dedupe window has passed and its event is gone', async () => {
    await log.close();
    let now = 1_000_000;
    log = openSqliteEventLog({ path: path(), dedupeWindowMs: 1_000, clock: () => now });
    await log.append([input('old')]);
    now += 600;
    await log.append([input('recent')]);
    now += 600; // 'old' is 1200 ms old (expired), 'recent' 600 ms (inside the window)
    const keys = () => {
      const peek = new DatabaseSync(path(), { readOnly: true });
      try {
        // Keys contain NULs, which node:sqlite cuts off when reading TEXT back: compare bytes.
        return peek
          .prepare('SELECT hex(dedupe_key) AS k FROM event_keys ORDER BY position')
          .all()
          .map((r) => Buffer.from(r['k'] as string, 'hex').toString());
      } finally {
        peek.close();
      }
    };
    await log.applyRetention({});
    // Expired, but its event is still there to be found by id.
    expect(keys()).toEqual(['/src\u0000old', '/src\u0000recent']);
    expect((await log.getById('acme', 'old'))?.event.id).toBe('old');

    await log.applyRetention({ maxAgeMs: 1_000 }); // removes the event 'old'
    expect(keys()).toEqual(['/src\u0000recent']);
    await log.applyRetention({ maxAgeMs: 100 }); // removes 'recent', inside its window
    expect(keys()).toEqual(['/src\u0000recent']);
    expect(await log.append([input('recent')])).toEqual([
      expect.objectContaining({ duplicate: true }),
    ]);
  });

  it('migrates a schema 1 log: lookups by id and dedupe keep working', async () => {
    await log.close();
    rmSync(path(), { force: true });
    const old = new DatabaseSync(path());
    old.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE log_state (id INTEGER PRIMARY KEY CHECK (id = 1), last_position INTEGER NOT NULL, total_bytes INTEGER NOT NULL);
      CREATE TABLE events (position INTEGER PRIMARY KEY, partition INTEGER NOT NULL, tenant TEXT NOT NULL, topic TEXT NOT NULL, event_id TEXT NOT NULL, appended_at INTEGER NOT NULL, bytes INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE INDEX events_by_tenant ON events (tenant, position);
      CREATE INDEX events_by_event_id ON events (tenant, event_id);
      CREATE TABLE dedupe (position INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, partition INTEGER NOT NULL, recorded_at INTEGER NOT NULL);
      PRAGMA user_version = 1;`);
    const body = (id: string) => JSON.stringify(input(id).event);
    const now = Date.now();
    old
      .prepare('INSERT INTO log_state VALUES (1, 2, ?)')
      .run(Buffer.byteLength(body('m1')) + Buffer.byteLength(body('m2')));
    const insert = old.prepare(
      "INSERT INTO events VALUES (?, 0, 'acme', 'orders.dev.order.created', ?, ?, ?, ?)",
    );
    insert.run(1, 'm1', now, Buffer.byteLength(body('m1')), body('m1'));
    insert.run(2, 'm2', now, Buffer.byteLength(body('m2')), body('m2'));
    // m1's dedupe record has expired and was dropped; m2's is live.
    old.prepare('INSERT INTO dedupe VALUES (2, ?, 0, ?)').run('/src\u0000m2', now);
    old.close();

    log = openSqliteEventLog({ path: path() });
    expect((await log.getById('acme', 'm1'))?.position).toBe(1);
    expect((await log.getById('acme', 'm2'))?.position).toBe(2);
    const [m2, m3] = await log.append([input('m2'), input('m3')]);
    expect(m2).toMatchObject({ duplicate: true, position: 2 });
    expect(m3).toMatchObject({ duplicate: false, position: 3 });
    const peek = new DatabaseSync(path(), { readOnly: true });
    try {
      expect(peek.prepare('PRAGMA user_version').get()).toEqual({ user_version: 2 });
      const tables = peek
        .prepare("SELECT name FROM sqlite_schema WHERE name IN ('dedupe', 'events_by_event_id')")
        .all();
      expect(tables).toEqual([]);
    } finally {
      peek.close();
    }
  });

  it('keeps error classes across the writer thread boundary', async () => {
    const missing = await log.pull('nope', 'c1', 1, 0).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ConsumerGroupNotFoundError);
    expect(missing).toMatchObject({ group: 'nope' });
    await expect(log.applyRetention({ maxAgeMs: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(
      log.ensureGroup({ name: '', ackWaitMs: 1, maxDeliver: 0, startAt: 'end' }),
    ).rejects.toBeInstanceOf(TypeError);
  });

  it('refuses operations after close', async () => {
    await log.close();
    await expect(log.append([input()])).rejects.toThrow(/closed/);
    await expect(log.read({ after: 0, limit: 1 })).rejects.toThrow(/closed/);
    await expect(log.pull('g', 'c', 1, 0)).rejects.toThrow(/closed/);
  });

  describe('long-poll wake-ups', () => {
    const group = (name: string, over: Partial<ConsumerGroupSpec> = {}): ConsumerGroupSpec => ({
      name,
      ackWaitMs: 30_000,
      maxDeliver: 0,
      startAt: 'beginning',
      ...over,
    });
    /** A long-poll that must be woken: it fails after WAKE_GUARD_MS instead of its 60 s. */
    const pullWoken = async (name: string, consumer = 'c1'): Promise<PulledEvent[]> => {
      let guard: NodeJS.Timeout | undefined;
      const notWoken = new Promise<never>((_, reject) => {
        guard = setTimeout(() => reject(new Error('long-poll not woken')), WAKE_GUARD_MS);
      });
      try {
        return await Promise.race([log.pull(name, consumer, 10, 60_000), notWoken]);
      } finally {
        clearTimeout(guard);
      }
    };
    const event = (tenant: string, topic: string): AppendInput => ({ ...input(), tenant, topic });

    it("wakes only the long-polls whose group can take the appended event: not another tenant's, not another topic's", async () => {
      await log.ensureGroup(group('globex-all', { tenant: 'globex' }));
      await log.ensureGroup(group('acme-billing', { tenant: 'acme', topicPattern: 'billing.>' }));
      await log.ensureGroup(
        group('acme-orders', { tenant: 'acme', topicPattern: 'orders.*.order.>' }),
      );
      const idle = [
        log.pull('globex-all', 'c1', 10, 60_000),
        log.pull('acme-billing', 'c1', 10, 60_000),
      ];
      const matching = pullWoken('acme-orders');
      expect(log.stats().leases).toBe(3); // each pull's first look

      await log.append([event('acme', 'orders.dev.order.created')]);
      expect(await matching).toHaveLength(1);
      // The matching pull's wake-up alone: the idle pulls did not lease again.
      expect(log.stats().leases).toBe(4);

      await log.close();
      expect(await Promise.all(idle)).toEqual([[], []]);
    });

    it("wakes a platform group's long-poll for any tenant's event on its topics only", async () => {
      await log.ensureGroup(group('platform-orders', { topicPattern: 'orders.>' }));
      const pulling = pullWoken('platform-orders');
      await log.append([event('globex', 'billing.dev.invoice.paid')]);
      const [orders] = await log.append([event('globex', 'orders.dev.order.created')]);
      expect((await pulling).map((p) => p.position)).toEqual([orders!.position]);
      // First look, then the orders event; the billing event woke nothing.
      expect(log.stats().leases).toBe(2);
    });

    it('wakes a waiting long-poll when its group is changed to a pattern the next event matches', async () => {
      await log.ensureGroup(group('g', { tenant: 'acme', topicPattern: 'billing.>' }));
      const pulling = pullWoken('g');
      await log.ensureGroup(group('g', { tenant: 'acme', topicPattern: 'orders.>' }));
      const [appended] = await log.append([event('acme', 'orders.dev.order.created')]);
      expect((await pulling).map((p) => p.position)).toEqual([appended!.position]);
    });

    it('wakes a waiting long-poll when an event of its group is nacked, and delivers it after the delay', async () => {
      await log.ensureGroup(group('g'));
      const [appended] = await log.append([input()]);
      const [leased] = await log.pull('g', 'c1', 1, 0);
      // c2 waits; the only thing due is c1's lease, 30 s away.
      const pulling = pullWoken('g', 'c2');
      // A round trip through the writer thread after c2's lease: c2 is asleep by its end.
      expect(await log.pull('g', 'c3', 1, 0)).toEqual([]);
      expect(await log.nack('g', leased!.token, 100)).toBe(true);
      expect(await pulling).toEqual([
        expect.objectContaining({ position: appended!.position, deliveryCount: 2 }),
      ]);
    });

    it('ends a waiting long-poll of a deleted group with ConsumerGroupNotFoundError', async () => {
      await log.ensureGroup(group('g'));
      const pulling = pullWoken('g').catch((error: unknown) => error);
      expect(await log.deleteGroup('g')).toBe(true);
      expect(await pulling).toBeInstanceOf(ConsumerGroupNotFoundError);
    });
  });

  it('answers a pending long-poll with nothing when closed', async () => {
    await log.ensureGroup({ name: 'g', ackWaitMs: 1_000, maxDeliver: 0, startAt: 'beginning' });
    const pulling = log.pull('g', 'c1', 1, 10_000);
    await log.close();
    await expect(pulling).resolves.toEqual([]);
  });
});
