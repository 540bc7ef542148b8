/**
 * The behaviour every `EventLog` engine must show, as a vitest suite. An engine's test
 * file calls `describeEventLogContract('sqlite', open)` with a factory that opens a fresh,
 * empty log for each test. Waits are short (ack wait 200 ms) and no test asserts speed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsumerGroupLimitError } from './consumer-group-limit.ts';
import type {
  AppendInput,
  CloudEventRecord,
  ConsumerGroupSpec,
  EventLog,
  LogEntry,
  PulledEvent,
} from './event-log.ts';

export type EventLogHarness = {
  log: EventLog;
  /**
   * Closes `log` and opens the same storage again (a restart). Omit it when the engine
   * cannot; the restart test is then skipped with a reason.
   */
  reopen?: () => Promise<EventLog>;
  /** Closes whichever log is open now and removes its storage. */
  cleanup: () => Promise<void>;
  /**
   * Present when the engine's clock is injectable: `advance` moves it forward (real time
   * keeps flowing too). Dedupe-window and age-retention tests use it; without it the
   * first is skipped with a reason and the second waits in real time.
   */
  clock?: {
    advance(ms: number): void;
    dedupeWindowMs: number;
    /**
     * False when the engine dates events by a clock of its own (JetStream stamps each
     * message on the server): age retention then waits in real time.
     */
    movesEventAges?: boolean;
  };
  /**
   * The most rows of a tenant one read with a topic pattern (or one lag count) examines,
   * when the engine bounds it; the harness opens the log with a small bound so tests reach
   * it. Undefined when the engine filters elsewhere (JetStream, on the server).
   */
  scanRows?: number;
};

const ACK_WAIT_MS = 200;
/**
 * Long-polls that must be woken (by an append, an ack deadline or a nack delay) wait this
 * long, and fail the test if they have not answered after WAKE_GUARD_MS. Without the
 * guard, a pull that never wakes would still pass by looking once more at its deadline.
 */
const LONG_POLL_MS = 60_000;
const WAKE_GUARD_MS = 5_000;

export function describeEventLogContract(name: string, open: () => Promise<EventLogHarness>): void {
  describe(`EventLog contract: ${name}`, () => {
    let harness: EventLogHarness;
    let log: EventLog;
    let counter = 0;

    beforeEach(async () => {
      harness = await open();
      log = harness.log;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    /** A fresh event; `over` picks tenant, type, key, ids and data. */
    const input = (
      over: {
        tenant?: string;
        topic?: string;
        key?: string;
        id?: string;
        source?: string;
        data?: unknown;
      } = {},
    ): AppendInput => {
      const tenant = over.tenant ?? 'acme';
      const id = over.id ?? `evt-${++counter}`;
      const source = over.source ?? '/contract';
      const topic = over.topic ?? 'orders.dev.order.created';
      const [domain, , entity, action] = topic.split('.');
      const event: CloudEventRecord = {
        specversion: '1.0',
        id,
        source,
        type: `${domain}.${entity}.${action}`,
        time: '2026-01-01T00:00:00.000Z',
        tenantid: tenant,
        correlationid: id,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        recordedtime: '2026-01-01T00:00:00.001Z',
        datacontenttype: 'application/json',
        data: over.data ?? { n: counter },
      };
      return {
        tenant,
        topic,
        partitionKey: over.key ?? tenant,
        dedupeKey: `${source}\u0000${id}`,
        event,
      };
    };
    /** Every match, paging from `next` until `end` (a short page is not the end). */
    const readAll = async (options: { tenant?: string; topicPattern?: string } = {}) => {
      const entries: LogEntry[] = [];
      for (let after = 0; ;) {
        const page = await log.read({ after, limit: 10_000, ...options });
        entries.push(...page.entries);
        if (page.end) return entries;
        expect(page.next).toBeGreaterThan(after);
        after = page.next;
      }
    };
    const group = (over: Partial<ConsumerGroupSpec> = {}): ConsumerGroupSpec => ({
      name: 'workers',
      ackWaitMs: ACK_WAIT_MS,
      maxDeliver: 0,
      startAt: 'beginning',
      ...over,
    });
    const positions = (items: { position: number }[]) => items.map((i) => i.position);
    /** A long-poll that must be woken well before its own deadline. */
    const pullWoken = async (
      name: string,
      consumer: string,
      max: number,
    ): Promise<PulledEvent[]> => {
      let guard: NodeJS.Timeout | undefined;
      const notWoken = new Promise<never>((_, reject) => {
        guard = setTimeout(
          () => reject(new Error(`long-poll not woken within ${WAKE_GUARD_MS} ms`)),
          WAKE_GUARD_MS,
        );
      });
      try {
        return await Promise.race([log.pull(name, consumer, max, LONG_POLL_MS), notWoken]);
      } finally {
        clearTimeout(guard);
      }
    };

    describe('append and read', () => {
      it('appends batches and reads them back in order, with the positions it returned', async () => {
        const first = await log.append([input(), input(), input()]);
        const second = await log.append([input(), input()]);
        const results = [...first, ...second];
        expect(results.every((r) => !r.duplicate)).toBe(true);
        const ascending = positions(results).every((p, i, all) => i === 0 || p > all[i - 1]!);
        expect(ascending).toBe(true);

        const entries = await readAll();
        expect(positions(entries)).toEqual(positions(results));
        expect(entries.map((e) => e.event.id)).toEqual(results.map((r) => r.id));
        expect(entries[0]!.topic).toBe('orders.dev.order.created');
        expect(entries[0]!.tenant).toBe('acme');
        expect(entries[0]!.partition).toBe(results[0]!.partition);
        expect(typeof entries[0]!.appendedAt).toBe('number');
      });

      it('returns the stored CloudEvent unchanged', async () => {
        const original = input({ data: { nested: { list: [1, 'two', null], unicode: 'żółw ✓' } } });
        await log.append([original]);
        const [entry] = await readAll();
        expect(entry!.event).toEqual(original.event);
      });

      it('pages with after and limit', async () => {
        const results = await log.append(Array.from({ length: 5 }, () => input()));
        const page1 = await log.read({ after: 0, limit: 2 });
        const page2 = await log.read({ after: page1.next, limit: 2 });
        const page3 = await log.read({ after: page2.next, limit: 2 });
        expect(page1).toMatchObject({ next: results[1]!.position, end: false });
        expect(
          [...page1.entries, ...page2.entries, ...page3.entries].map((e) => e.position),
        ).toEqual(positions(results));
        expect(page3).toMatchObject({ next: results[4]!.position, end: true });
        expect(page3.entries).toHaveLength(1);
        expect(await log.read({ after: results[4]!.position, limit: 10 })).toEqual({
          entries: [],
          next: results[4]!.position,
          end: true,
        });
        expect((await log.read({ after: 0, limit: 0 })).entries).toEqual([]);
      });

      it('pages through events a topic pattern does not match: each page moves on, no match is missed', async () => {
        // Far more non-matching events than one read examines, with matches spread among
        // them: a read must stop early (not scan the whole backlog), and paging on from its
        // `next` must still find every match, once, in order.
        const examined = harness.scanRows ?? 20;
        const appended: { position: number; topic: string }[] = [];
        for (let i = 0; i < 4; i++) {
          const batch = Array.from({ length: examined + 3 }, () =>
            input({ topic: 'orders.dev.order.created' }),
          );
          batch.push(input({ topic: 'billing.dev.invoice.paid' }));
          const results = await log.append(batch);
          appended.push(
            ...results.map((r, j) => ({ position: r.position, topic: batch[j]!.topic })),
          );
        }
        const expected = appended.filter((a) => a.topic === 'billing.dev.invoice.paid');
        const found: LogEntry[] = [];
        let pages = 0;
        for (let after = 0; ; pages++) {
          const page = await log.read({
            tenant: 'acme',
            topicPattern: '*.dev.invoice.*',
            after,
            limit: 100,
          });
          found.push(...page.entries);
          if (harness.scanRows !== undefined)
            // Positions are dense and all the tenant's: rows examined = next - after.
            expect(page.next - after).toBeLessThanOrEqual(harness.scanRows);
          if (page.end) break;
          expect(page.next).toBeGreaterThan(after);
          after = page.next;
        }
        expect(positions(found)).toEqual(positions(expected));
        if (harness.scanRows !== undefined) expect(pages).toBeGreaterThanOrEqual(4);
      });

      it('keeps order per partition key and maps a key to one partition', async () => {
        const keys = ['k-a', 'k-b', 'k-c'];
        for (let seq = 0; seq < 12; seq++) {
          const key = keys[seq % 3]!;
          await log.append([input({ key, data: { key, seq } })]);
        }
        await log.append(keys.map((key, i) => input({ key, data: { key, seq: 100 + i } })));
        const entries = await readAll();
        for (const key of keys) {
          const ofKey = entries.filter((e) => (e.event.data as { key: string }).key === key);
          const seqs = ofKey.map((e) => (e.event.data as { seq: number }).seq);
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          expect(seqs).toHaveLength(5);
          expect(new Set(ofKey.map((e) => e.partition)).size).toBe(1);
        }
      });

      it('gives concurrent appends distinct positions and loses none', async () => {
        const results = (
          await Promise.all(Array.from({ length: 40 }, () => log.append([input()])))
        ).flat();
        expect(new Set(positions(results)).size).toBe(40);
        expect(await readAll()).toHaveLength(40);
      });

      it('writes a batch all or nothing', async () => {
        await log.append([input({ id: 'before' })]);
        // A BigInt cannot be serialised by any JSON engine: the whole batch must fail.
        const bad = [
          input({ id: 'ok-1' }),
          input({ id: 'poison', data: { n: 1n } }),
          input({ id: 'ok-2' }),
        ];
        await expect(log.append(bad)).rejects.toThrow();
        expect((await readAll()).map((e) => e.event.id)).toEqual(['before']);
        expect(await log.getById('acme', 'ok-1')).toBeUndefined();
        // Nothing of the failed batch was remembered for dedupe either.
        const retry = await log.append([input({ id: 'ok-1' })]);
        expect(retry[0]!.duplicate).toBe(false);
      });

      it('accepts an empty batch as a no-op', async () => {
        expect(await log.append([])).toEqual([]);
        expect(await log.bounds()).toEqual({ first: 0, last: 0 });
      });
    });

    describe('dedupe', () => {
      it('acknowledges a second append of the same source+id as a duplicate of the first', async () => {
        const first = input({ id: 'same', data: { version: 1 } });
        const [original] = await log.append([first]);
        const [again] = await log.append([input({ id: 'same', data: { version: 2 } })]);
        expect(again).toMatchObject({ id: 'same', duplicate: true, position: original!.position });
        expect(again!.partition).toBe(original!.partition);
        const stored = await readAll();
        expect(stored).toHaveLength(1);
        expect(stored[0]!.event.data).toEqual({ version: 1 });
      });

      it('treats the same id from another source as a different event', async () => {
        const results = await log.append([
          input({ id: 'x', source: '/a' }),
          input({ id: 'x', source: '/b' }),
        ]);
        expect(results.map((r) => r.duplicate)).toEqual([false, false]);
      });

      it('detects a duplicate inside one batch', async () => {
        const results = await log.append([
          input({ id: 'd1' }),
          input({ id: 'd2' }),
          input({ id: 'd1' }),
        ]);
        expect(results.map((r) => r.duplicate)).toEqual([false, false, true]);
        expect(results[2]!.position).toBe(results[0]!.position);
        expect(await readAll()).toHaveLength(2);
      });

      it('stores the event again once the dedupe window has passed', async (ctx) => {
        ctx.skip(
          harness.clock === undefined,
          'the engine clock is not injectable, so the window cannot pass quickly',
        );
        const clock = harness.clock!;
        const [first] = await log.append([input({ id: 'late' })]);
        clock.advance(clock.dedupeWindowMs + 1);
        const [second] = await log.append([input({ id: 'late' })]);
        expect(second!.duplicate).toBe(false);
        expect(second!.position).toBeGreaterThan(first!.position);
        const [third] = await log.append([input({ id: 'late' })]);
        expect(third).toMatchObject({ duplicate: true, position: second!.position });
      });
    });

    describe('filtering and lookup', () => {
      const topics = [
        'orders.dev.order.created',
        'orders.dev.order.cancelled',
        'orders.dev.invoice.created',
        'billing.dev.invoice.paid',
        'orders.prod.order.created',
      ];
      const seed = async () => {
        await log.append(topics.map((topic) => input({ tenant: 'acme', topic })));
        await log.append(topics.map((topic) => input({ tenant: 'globex', topic })));
      };
      const topicsOf = (entries: LogEntry[]) => entries.map((e) => e.topic);

      it('reads one tenant only', async () => {
        await seed();
        const acme = await readAll({ tenant: 'acme' });
        expect(acme).toHaveLength(topics.length);
        expect(acme.every((e) => e.tenant === 'acme')).toBe(true);
        expect(await readAll()).toHaveLength(2 * topics.length);
        expect(await readAll({ tenant: 'nobody' })).toEqual([]);
      });

      it.each([
        ['orders.dev.order.created', ['orders.dev.order.created']],
        ['orders.dev.order.*', ['orders.dev.order.created', 'orders.dev.order.cancelled']],
        ['orders.*.order.created', ['orders.dev.order.created', 'orders.prod.order.created']],
        ['*.dev.*.created', ['orders.dev.order.created', 'orders.dev.invoice.created']],
        ['*.*.invoice.*', ['orders.dev.invoice.created', 'billing.dev.invoice.paid']],
        ['orders.>', topics.filter((t) => t.startsWith('orders.'))],
        ['orders.dev.>', topics.filter((t) => t.startsWith('orders.dev.'))],
        ['>', topics],
        ['orders.dev', []],
        ['orders.dev.order', []],
      ])('topic pattern %s', async (pattern, expected) => {
        await seed();
        expect(topicsOf(await readAll({ tenant: 'acme', topicPattern: pattern }))).toEqual(
          expected,
        );
      });

      it('combines a topic pattern with after and limit', async () => {
        await seed();
        const all = await readAll({ topicPattern: '*.dev.*.created' });
        expect(all).toHaveLength(4);
        const page = await log.read({
          topicPattern: '*.dev.*.created',
          after: all[0]!.position,
          limit: 2,
        });
        expect(positions(page.entries)).toEqual(positions(all.slice(1, 3)));
      });

      it('rejects an invalid topic pattern', async () => {
        await expect(
          log.read({ after: 0, limit: 10, topicPattern: 'orders.>.x' }),
        ).rejects.toThrow();
      });

      it('finds an event by id within its tenant only', async () => {
        const [acmeResult] = await log.append([input({ tenant: 'acme', id: 'shared-id' })]);
        const entry = await log.getById('acme', 'shared-id');
        expect(entry).toMatchObject({ position: acmeResult!.position, tenant: 'acme' });
        expect(entry!.event.id).toBe('shared-id');
        expect(await log.getById('globex', 'shared-id')).toBeUndefined();
        expect(await log.getById('acme', 'missing')).toBeUndefined();
      });

      it('returns the newest event when several sources used one id', async () => {
        await log.append([input({ id: 'dup-id', source: '/one' })]);
        const [newer] = await log.append([input({ id: 'dup-id', source: '/two' })]);
        expect((await log.getById('acme', 'dup-id'))!.position).toBe(newer!.position);
      });

      it('reports bounds', async () => {
        expect(await log.bounds()).toEqual({ first: 0, last: 0 });
        const results = await log.append([input(), input(), input()]);
        expect(await log.bounds()).toEqual({
          first: results[0]!.position,
          last: results[2]!.position,
        });
      });
    });

    describe('consumer groups', () => {
      const ackAll = async (name: string, pulled: PulledEvent[]) => {
        for (const m of pulled) expect(await log.ack(name, m.token)).toBe(true);
      };

      it('creates, lists, updates (keeping the cursor) and deletes groups', async () => {
        await log.append([input(), input()]);
        await log.ensureGroup(group({ tenant: 'acme', topicPattern: 'orders.>' }));
        expect(await log.getGroup('workers')).toMatchObject({
          name: 'workers',
          tenant: 'acme',
          topicPattern: 'orders.>',
          ackWaitMs: ACK_WAIT_MS,
          maxDeliver: 0,
          startAt: 'beginning',
          pending: 2,
          pendingIsLowerBound: false,
          inflight: 0,
        });
        expect(await log.hasGroup('workers')).toBe(true);
        expect(await log.hasGroup('nope')).toBe(false);
        const [m] = await log.pull('workers', 'c1', 1, 0);
        await log.ack('workers', m!.token);
        await log.ensureGroup(group({ tenant: 'acme', topicPattern: 'orders.>', maxDeliver: 5 }));
        expect(await log.getGroup('workers')).toMatchObject({ maxDeliver: 5, pending: 1 });
        expect((await log.listGroups()).map((g) => g.name)).toEqual(['workers']);
        expect(await log.deleteGroup('workers')).toBe(true);
        expect(await log.deleteGroup('workers')).toBe(false);
        expect(await log.getGroup('workers')).toBeUndefined();
        expect(await log.hasGroup('workers')).toBe(false);
        expect(await log.listGroups()).toEqual([]);
      });

      it("counts a selective group's pending as exact, or says it is a lower bound", async () => {
        // The matches come after more non-matching events than one lag count examines.
        const examined = harness.scanRows ?? 20;
        await log.append(Array.from({ length: examined + 5 }, () => input()));
        await log.append([
          input({ topic: 'billing.dev.invoice.paid' }),
          input({ topic: 'billing.dev.invoice.paid' }),
        ]);
        await log.ensureGroup(group({ tenant: 'acme', topicPattern: '*.dev.invoice.*' }));
        const info = (await log.getGroup('workers'))!;
        const [listed] = await log.listGroups();
        expect(listed).toMatchObject({ pending: info.pending });
        if (info.pendingIsLowerBound) expect(info.pending).toBeLessThanOrEqual(2);
        else expect(info.pending).toBe(2);
        // An engine that bounds the count stopped before the matches, and says so.
        if (harness.scanRows !== undefined)
          expect(info).toMatchObject({ pendingIsLowerBound: true });
        // Once delivered, nothing is pending, exactly.
        await ackAll('workers', await log.pull('workers', 'c1', 10, 0));
        expect(await log.getGroup('workers')).toMatchObject({
          pending: 0,
          pendingIsLowerBound: false,
        });
      });

      it("refuses to create a tenant's group past maxGroupsPerTenant, also when creations race", async () => {
        const limits = { maxGroupsPerTenant: 2 };
        const results = await Promise.allSettled(
          ['g1', 'g2', 'g3', 'g4', 'g5'].map((name) =>
            log.ensureGroup(group({ name, tenant: 'acme' }), limits),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
        for (const r of results)
          if (r.status === 'rejected') {
            expect(r.reason).toBeInstanceOf(ConsumerGroupLimitError);
            expect(r.reason).toMatchObject({ tenant: 'acme', limit: 2 });
          }
        const names = (await log.listGroups()).map((g) => g.name);
        expect(names).toHaveLength(2);
        // At the limit: updating one of them is fine; another tenant and platform groups are
        // counted apart.
        await log.ensureGroup(group({ name: names[0]!, tenant: 'acme', maxDeliver: 3 }), limits);
        await log.ensureGroup(group({ name: 'globex-1', tenant: 'globex' }), limits);
        await log.ensureGroup(group({ name: 'platform' }), limits);
        // Deleting one makes room again.
        await log.deleteGroup(names[1]!);
        await log.ensureGroup(group({ name: 'g6', tenant: 'acme' }), limits);
        await expect(
          log.ensureGroup(group({ name: 'g7', tenant: 'acme' }), limits),
        ).rejects.toBeInstanceOf(ConsumerGroupLimitError);
      });

      it('rejects a pull on a group that does not exist', async () => {
        await expect(log.pull('nope', 'c1', 1, 0)).rejects.toThrow();
      });

      it('starts at the end when asked, seeing only later events', async () => {
        await log.append([input(), input()]);
        await log.ensureGroup(group({ startAt: 'end' }));
        expect(await log.pull('workers', 'c1', 10, 0)).toEqual([]);
        const [later] = await log.append([input()]);
        expect(positions(await log.pull('workers', 'c1', 10, 0))).toEqual([later!.position]);
      });

      it("delivers only the group's tenant and topic pattern", async () => {
        await log.append([
          input({ tenant: 'acme', topic: 'orders.dev.order.created' }),
          input({ tenant: 'globex', topic: 'orders.dev.order.created' }),
          input({ tenant: 'acme', topic: 'billing.dev.invoice.paid' }),
          input({ tenant: 'acme', topic: 'orders.dev.order.cancelled' }),
        ]);
        await log.ensureGroup(group({ tenant: 'acme', topicPattern: 'orders.*.order.*' }));
        expect((await log.getGroup('workers'))!.pending).toBe(2);
        const pulled = await log.pull('workers', 'c1', 10, 0);
        expect(pulled.map((m) => [m.tenant, m.topic])).toEqual([
          ['acme', 'orders.dev.order.created'],
          ['acme', 'orders.dev.order.cancelled'],
        ]);
        expect(pulled.every((m) => m.deliveryCount === 1 && typeof m.token === 'string')).toBe(
          true,
        );
      });

      it('shares the work between consumers, never leasing one event to both', async () => {
        const appended = await log.append(Array.from({ length: 10 }, () => input()));
        await log.ensureGroup(group({ ackWaitMs: 30_000 }));
        const c1 = await log.pull('workers', 'c1', 4, 0);
        const c2 = await log.pull('workers', 'c2', 10, 0);
        expect(c1).toHaveLength(4);
        expect(c2).toHaveLength(6);
        expect(await log.pull('workers', 'c1', 10, 0)).toEqual([]);
        const seen = [...positions(c1), ...positions(c2)];
        expect(new Set(seen).size).toBe(10);
        expect([...seen].sort((a, b) => a - b)).toEqual(positions(appended));
        expect(await log.getGroup('workers')).toMatchObject({ pending: 0, inflight: 10 });
        await ackAll('workers', [...c1, ...c2]);
        expect(await log.getGroup('workers')).toMatchObject({ pending: 0, inflight: 0 });
      });

      it('redelivers after the ack deadline with deliveryCount 2; the old token is then stale', async () => {
        const [appended] = await log.append([input()]);
        await log.ensureGroup(group());
        const [first] = await log.pull('workers', 'c1', 1, 0);
        expect(first!.deliveryCount).toBe(1);
        const [second] = await pullWoken('workers', 'c2', 1);
        expect(second).toMatchObject({ position: appended!.position, deliveryCount: 2 });
        expect(second!.event).toEqual(first!.event);
        expect(second!.token).not.toBe(first!.token);
        expect(await log.ack('workers', first!.token)).toBe(false);
        expect(await log.ack('workers', second!.token)).toBe(true);
        expect(await log.getGroup('workers')).toMatchObject({ pending: 0, inflight: 0 });
      });

      it('redelivers a nacked event only after its delay', async () => {
        await log.append([input()]);
        await log.ensureGroup(group({ ackWaitMs: 30_000 }));
        const [m] = await log.pull('workers', 'c1', 1, 0);
        expect(await log.nack('workers', m!.token, 400)).toBe(true);
        expect(await log.pull('workers', 'c1', 1, 0)).toEqual([]);
        expect(await log.ack('workers', m!.token)).toBe(false); // given back: the token is spent
        const [again] = await pullWoken('workers', 'c1', 1);
        expect(again).toMatchObject({ position: m!.position, deliveryCount: 2 });
      });

      it('redelivers a nack without delay at once, before new events', async () => {
        const appended = await log.append([input(), input()]);
        await log.ensureGroup(group({ ackWaitMs: 30_000 }));
        const [m] = await log.pull('workers', 'c1', 1, 0);
        await log.nack('workers', m!.token, 0);
        const next = await log.pull('workers', 'c1', 2, 0);
        expect(next.map((e) => [e.position, e.deliveryCount])).toEqual([
          [appended[0]!.position, 2],
          [appended[1]!.position, 1],
        ]);
      });

      it('never redelivers a terminated event', async () => {
        await log.append([input()]);
        await log.ensureGroup(group());
        const [m] = await log.pull('workers', 'c1', 1, 0);
        expect(await log.term('workers', m!.token)).toBe(true);
        expect(await log.term('workers', m!.token)).toBe(false);
        expect(await log.pull('workers', 'c1', 1, ACK_WAIT_MS * 2)).toEqual([]);
        expect(await log.getGroup('workers')).toMatchObject({ pending: 0, inflight: 0 });
      });

      it('terminates an event after maxDeliver deliveries', async () => {
        const [poison, healthy] = await log.append([input(), input()]);
        await log.ensureGroup(group({ maxDeliver: 2, ackWaitMs: 30_000 }));
        const [d1] = await log.pull('workers', 'c1', 1, 0);
        await log.nack('workers', d1!.token, 0);
        const [d2] = await log.pull('workers', 'c1', 1, 0);
        expect(d2).toMatchObject({ position: poison!.position, deliveryCount: 2 });
        await log.nack('workers', d2!.token, 0);
        const rest = await log.pull('workers', 'c1', 10, 0);
        expect(rest.map((e) => [e.position, e.deliveryCount])).toEqual([[healthy!.position, 1]]);
        await log.ack('workers', rest[0]!.token);
        expect(await log.getGroup('workers')).toMatchObject({ pending: 0, inflight: 0 });
      });

      it('terminates after maxDeliver also when the deadline passes without a nack', async () => {
        await log.append([input()]);
        await log.ensureGroup(group({ maxDeliver: 1 }));
        expect(await log.pull('workers', 'c1', 1, 0)).toHaveLength(1);
        expect(await log.pull('workers', 'c1', 1, ACK_WAIT_MS * 3)).toEqual([]);
      });

      it('refuses unknown tokens and tokens of another group', async () => {
        await log.append([input()]);
        await log.ensureGroup(group());
        await log.ensureGroup(group({ name: 'others' }));
        const [m] = await log.pull('workers', 'c1', 1, 0);
        expect(await log.ack('workers', 'not-a-token')).toBe(false);
        expect(await log.nack('workers', 'not-a-token', 0)).toBe(false);
        expect(await log.term('workers', 'not-a-token')).toBe(false);
        expect(await log.ack('others', m!.token)).toBe(false);
        expect(await log.ack('missing-group', m!.token)).toBe(false);
        expect(await log.ack('workers', m!.token)).toBe(true);
      });

      it('wakes a long-poll as soon as a matching event is appended', async () => {
        await log.ensureGroup(group());
        const pulling = pullWoken('workers', 'c1', 10);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const [appended] = await log.append([input()]);
        expect(positions(await pulling)).toEqual([appended!.position]);
      });

      it('ends an aborted long-poll at once, and it leases nothing after the abort', async () => {
        // maxDeliver 1: a lease taken for a consumer that is gone would use up the event.
        await log.ensureGroup(group({ maxDeliver: 1, ackWaitMs: 30_000 }));
        const gone = new AbortController();
        const started = performance.now();
        const abandoned = log.pull('workers', 'leaver', 10, 30_000, gone.signal);
        await new Promise((resolve) => setTimeout(resolve, 50)); // it is waiting
        gone.abort();
        expect(await abandoned).toEqual([]);
        expect(performance.now() - started).toBeLessThan(10_000);
        const [appended] = await log.append([input()]);
        const [next] = await pullWoken('workers', 'stayer', 10);
        expect(next).toMatchObject({ position: appended!.position, deliveryCount: 1 });
        // A pull whose consumer left before it began takes nothing either.
        const [later] = await log.append([input()]);
        expect(await log.pull('workers', 'leaver', 10, 0, AbortSignal.abort())).toEqual([]);
        expect(await log.pull('workers', 'stayer', 10, 0)).toMatchObject([
          { position: later!.position, deliveryCount: 1 },
        ]);
      });

      it('ends an idle long-poll empty after its wait', async () => {
        await log.ensureGroup(group());
        expect(await log.pull('workers', 'c1', 10, 50)).toEqual([]);
      });

      it('keeps the group, its cursor and its leases across a restart', async (ctx) => {
        ctx.skip(
          harness.reopen === undefined,
          'the engine cannot be reopened on the same storage in this harness',
        );
        const appended = await log.append([input(), input(), input(), input()]);
        await log.ensureGroup(group({ tenant: 'acme' }));
        const [a, b] = await log.pull('workers', 'c1', 2, 0);
        await log.ack('workers', a!.token);
        log = await harness.reopen!();
        expect(await log.getGroup('workers')).toMatchObject({
          tenant: 'acme',
          pending: 2,
          inflight: 1,
        });
        // The two undelivered events, plus `b` again once its lease (from before) expires.
        const delivered: PulledEvent[] = [];
        for (let i = 0; i < 3 && delivered.length < 3; i++)
          for (const e of await pullWoken('workers', 'c2', 10))
            // On a loaded machine the short ack wait may run out between two pulls: a
            // redelivery of an event already collected here is not what this test is about.
            if (!delivered.some((d) => d.position === e.position)) delivered.push(e);
        expect(
          delivered.map((e) => [e.position, e.deliveryCount]).sort((x, y) => x[0]! - y[0]!),
        ).toEqual([
          [b!.position, 2],
          [appended[2]!.position, 1],
          [appended[3]!.position, 1],
        ]);
        expect((await log.read({ after: 0, limit: 10 })).entries).toHaveLength(4);
      });
    });

    describe('retention', () => {
      it('removes the oldest events beyond a size limit and moves bounds().first', async () => {
        const appended = await log.append(
          Array.from({ length: 10 }, () => input({ data: { pad: 'x'.repeat(200) } })),
        );
        const sizes = (await readAll()).map((e) => JSON.stringify(e.event).length);
        // Room for about four of the ten events.
        const { removed } = await log.applyRetention({
          maxBytes: sizes.slice(6).reduce((a, b) => a + b, 0) + 10,
        });
        expect(removed).toBeGreaterThanOrEqual(5);
        expect(removed).toBeLessThanOrEqual(7);
        const left = await readAll();
        expect(positions(left)).toEqual(positions(appended.slice(removed)));
        expect(await log.bounds()).toEqual({
          first: appended[removed]!.position,
          last: appended[9]!.position,
        });
      });

      it('removes events older than maxAgeMs', async () => {
        const clock = harness.clock?.movesEventAges === false ? undefined : harness.clock;
        const old = await log.append([input(), input()]);
        if (clock) clock.advance(60_000);
        else await new Promise((resolve) => setTimeout(resolve, 600));
        const young = await log.append([input()]);
        const { removed } = await log.applyRetention({ maxAgeMs: clock ? 30_000 : 300 });
        expect(removed).toBe(2);
        expect(positions(await readAll())).toEqual(positions(young));
        expect((await log.bounds()).first).toBe(young[0]!.position);
        expect(old[1]!.position).toBeLessThan(young[0]!.position);
      });

      it('never reuses positions, even after removing everything', async () => {
        const before = await log.append([input(), input()]);
        await log.applyRetention({ maxBytes: 0 });
        expect(await readAll()).toEqual([]);
        expect((await log.bounds()).last).toBe(before[1]!.position);
        const [after] = await log.append([input()]);
        expect(after!.position).toBeGreaterThan(before[1]!.position);
      });

      it('keeps dedupe records inside their window when retention removes the events', async () => {
        const [original] = await log.append([input({ id: 'gone-but-remembered' })]);
        await log.applyRetention({ maxBytes: 0 });
        const [again] = await log.append([input({ id: 'gone-but-remembered' })]);
        expect(again).toMatchObject({ duplicate: true, position: original!.position });
      });

      it('stops a consumer group from delivering removed events', async () => {
        await log.append([input(), input()]);
        await log.ensureGroup(group());
        await log.applyRetention({ maxBytes: 0 });
        const [kept] = await log.append([input()]);
        expect(positions(await log.pull('workers', 'c1', 10, 0))).toEqual([kept!.position]);
      });
    });

    describe('notifications and lifecycle', () => {
      it('calls onAppend listeners with the new entries, not for duplicates, until unsubscribed', async () => {
        const seen: LogEntry[][] = [];
        const unsubscribe = log.onAppend((entries) => seen.push(entries));
        const appended = await log.append([input({ id: 'n1' }), input({ id: 'n2' })]);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(seen.flat().map((e) => [e.position, e.event.id])).toEqual(
          appended.map((r) => [r.position, r.id]),
        );
        await log.append([input({ id: 'n1' })]);
        unsubscribe();
        await log.append([input({ id: 'n3' })]);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(seen.flat()).toHaveLength(2);
      });

      it('is ready while open; close is idempotent and finishes accepted appends', async () => {
        expect(await log.ready()).toBe(true);
        const pending = log.append([input({ id: 'last-words' })]);
        await Promise.all([log.close(), log.close()]);
        await expect(pending).resolves.toHaveLength(1);
        await log.close();
        expect(await log.ready()).toBe(false);
        if (harness.reopen) {
          log = await harness.reopen();
          expect(await log.getById('acme', 'last-words')).toBeDefined();
        }
      });
    });
  });
}
