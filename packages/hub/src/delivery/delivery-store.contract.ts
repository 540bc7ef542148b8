/**
 * What the deliveries table must do on every SQL engine, as a vitest suite: run by
 * delivery-store.test.ts on SQLite and delivery-store.cluster.test.ts on PostgreSQL.
 * Times are explicit numbers, so nothing here waits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../store/sql-database.ts';
import {
  AttemptLog,
  decodeAttemptCursor,
  encodeAttemptCursor,
  insertAttempt,
  type AttemptRecord,
} from './attempt-log.ts';
import {
  decodeCursor,
  DeliveryStore,
  targetKey,
  type ClaimedDelivery,
  type NewDelivery,
} from './delivery-store.ts';
import { DELIVERY_MIGRATIONS } from './migrations.ts';
import { newestAttemptFirst } from './testing/attempt-order.ts';

const T0 = 1_700_000_000_000;
const LEASE = 30_000;

let position = 0;
function delivery(over: Partial<NewDelivery> & { id?: string } = {}): NewDelivery {
  const p = ++position;
  const id = over.id ?? `e${p}`;
  return {
    eventKey: `key-${id}`,
    ruleId: 'r1',
    ruleName: 'rule one',
    targetIndex: 0,
    owner: 'tenant:acme',
    tenant: 'acme',
    kind: 'http',
    ref: 'a',
    target: { kind: 'http', path: 'a' },
    ordered: false,
    partitionKey: 'acme',
    eventPosition: p,
    event: {
      specversion: '1.0',
      id,
      source: '/s',
      type: 'a.b.c',
      time: '2025-01-01T00:00:00Z',
      tenantid: 'acme',
      correlationid: id,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      recordedtime: '2025-01-01T00:00:00Z',
    },
    ...over,
  };
}

const KEY_A = targetKey('tenant:acme', 'http', 'a');

/** The record the dispatcher would write for the attempt on `d` that settles at `at`. */
function attemptOn(d: ClaimedDelivery, at: number, over: Partial<AttemptRecord> = {}) {
  return {
    deliveryId: d.id,
    attempt: d.attempts + 1,
    replay: d.replays,
    owner: d.owner,
    targetKey: d.targetKey,
    startedAt: at - 5,
    durationMs: 5,
    outcome: 'retry' as const,
    statusCode: 503,
    error: 'HTTP 503',
    response: 'x'.repeat(5000),
    retryAfterMs: null,
    nextAttemptAt: null,
    deadReason: null,
    ...over,
  };
}

export function describeDeliveryStoreContract(
  name: string,
  open: () => Promise<SqlDatabase>,
): void {
  describe(`DeliveryStore: ${name}`, () => {
    const opened: SqlDatabase[] = [];
    const fresh = async () => {
      const db = await open();
      opened.push(db);
      await db.migrate(DELIVERY_MIGRATIONS);
      return new DeliveryStore(db);
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((db) => db.close()));
    });

    it('inserts a routed event once: the same (event, rule, target) again is skipped', async () => {
      const store = await fresh();
      const rows = [
        delivery({ id: 'x' }),
        delivery({ id: 'x', targetIndex: 1 }),
        delivery({ id: 'y' }),
      ];
      expect((await store.insertBatch(rows, T0)).inserted).toBe(3);
      expect((await store.insertBatch(rows, T0 + 1)).inserted).toBe(0);
      expect((await store.insertBatch([delivery({ id: 'x', ruleId: 'r2' })], T0)).inserted).toBe(1);
      const many = Array.from({ length: 120 }, () => delivery());
      expect((await store.insertBatch(many, T0)).inserted).toBe(120);
    });

    it('leases due deliveries once; the lease expires by itself; stale settles change nothing', async () => {
      const store = await fresh();
      await store.insertBatch([delivery(), delivery(), delivery()], T0);
      const first = await store.claim(KEY_A, 2, T0, LEASE);
      expect(first).toHaveLength(2);
      const second = await store.claim(KEY_A, 10, T0, LEASE);
      expect(second).toHaveLength(1);
      expect(new Set([...first, ...second].map((d) => d.id)).size).toBe(3);
      expect(await store.claim(KEY_A, 10, T0 + 1, LEASE)).toEqual([]);
      expect(await store.nextDueAt(KEY_A)).toBe(T0 + LEASE);

      // The holder of first[0] died: after the lease, another claim takes it over.
      const again = await store.claim(KEY_A, 10, T0 + LEASE, LEASE);
      expect(again.map((d) => d.id).sort()).toEqual([...first, ...second].map((d) => d.id).sort());
      expect(await store.settleDelivered(first[0]!.id, first[0]!.leaseToken, T0 + LEASE)).toBe(
        false,
      );
      const mine = again.find((d) => d.id === first[0]!.id)!;
      expect(await store.settleDelivered(mine.id, mine.leaseToken, T0 + LEASE)).toBe(true);
      expect(await store.getById(mine.id)).toMatchObject({
        status: 'delivered',
        attempts: 1,
        deliveredAt: T0 + LEASE,
      });
    });

    it('a claim returns the same delivery whether this store routed it or another node did', async () => {
      const store = await fresh();
      // Another node on the same store: it never saw the insert.
      const other = new DeliveryStore(opened[opened.length - 1]!);
      const routed = delivery({ target: { kind: 'http', path: 'a', retry: { maxAttempts: 2 } } });
      await store.insertBatch([routed], T0);
      const [mine] = await store.claim(KEY_A, 1, T0, LEASE);
      // The lease ran out: the other node takes the delivery over.
      const [theirs] = await other.claim(KEY_A, 1, T0 + LEASE, LEASE);
      expect(theirs).toEqual({
        ...mine,
        dueAt: T0 + 2 * LEASE,
        leaseToken: theirs!.leaseToken,
      });
      expect(mine).toMatchObject({
        event: routed.event,
        eventJson: JSON.stringify(routed.event),
        target: routed.target,
        ruleId: routed.ruleId,
        partitionKey: routed.partitionKey,
        eventPosition: routed.eventPosition,
        status: 'pending',
        attempts: 0,
        dueAt: T0 + LEASE,
      });
    });

    it('a row inserted leased comes back as its claim would read it, and is nobody else’s until the lease ends', async () => {
      const store = await fresh();
      const other = new DeliveryStore(opened[opened.length - 1]!);
      const lease = { token: 'routed-lease', until: T0 + LEASE };
      const routed = delivery({ target: { kind: 'http', path: 'a' }, lease });
      const plain = delivery();
      const { inserted, leased } = await store.insertBatch([routed, plain], T0);
      expect(inserted).toBe(2);
      expect(leased).toHaveLength(1);
      // Only the plain row is up for claiming now.
      const claimed = await other.claim(KEY_A, 10, T0, LEASE);
      expect(claimed.map((d) => d.event.id)).toEqual([plain.event.id]);
      // After the lease, a claim reads the row back exactly as the insert described it.
      const [taken] = await other.claim(KEY_A, 10, T0 + LEASE, LEASE);
      expect(taken).toEqual({
        ...leased[0],
        dueAt: T0 + 2 * LEASE,
        leaseToken: taken!.leaseToken,
      });
      // The lease was taken over: the first holder's settle changes nothing.
      expect(await store.settleDelivered(leased[0]!.id, lease.token, T0 + LEASE)).toBe(false);

      // Routed again (a redelivered event): nothing new, so nothing leased.
      expect(await store.insertBatch([{ ...routed, lease }], T0 + 1)).toEqual({
        inserted: 0,
        leased: [],
      });
    });

    it('settles and claims issued at the same moment (one shared commit) each get their own answer', async () => {
      const store = await fresh();
      const log = new AttemptLog(opened[opened.length - 1]!);
      await store.insertBatch(
        Array.from({ length: 12 }, () => delivery()),
        T0,
      );
      const leased = await store.claim(KEY_A, 8, T0, LEASE);
      expect(leased).toHaveLength(8);
      const t1 = T0 + 10;
      // All at once: six good settles, one with a stale lease token, one retry, and claims.
      const [settles, claimedA, claimedB] = await Promise.all([
        Promise.all([
          ...leased
            .slice(0, 6)
            .map((d) => store.settleDelivered(d.id, d.leaseToken, t1, attemptOn(d, t1))),
          store.settleDelivered(leased[6]!.id, 'stale', t1, attemptOn(leased[6]!, t1)),
          store.settleRetry(
            leased[7]!.id,
            leased[7]!.leaseToken,
            t1,
            t1 + 1000,
            'HTTP 503',
            attemptOn(leased[7]!, t1),
          ),
        ]),
        store.claim(KEY_A, 3, t1, LEASE),
        store.claim(KEY_A, 3, t1, LEASE),
      ]);
      expect(settles).toEqual([true, true, true, true, true, true, false, true]);
      // The four never-leased rows are shared out between the two claims, none twice.
      const ids = [...claimedA, ...claimedB].map((d) => d.id);
      expect(ids).toHaveLength(4);
      expect(new Set(ids).size).toBe(4);
      expect(ids.some((id) => leased.some((d) => d.id === id))).toBe(false);
      for (const d of leased.slice(0, 6)) {
        expect(await store.getById(d.id)).toMatchObject({ status: 'delivered', attempts: 1 });
        expect(await log.forDelivery(d.id)).toHaveLength(1);
      }
      // The stale settle changed nothing and left no attempt record.
      expect(await store.getById(leased[6]!.id)).toMatchObject({ status: 'pending', attempts: 0 });
      expect(await log.forDelivery(leased[6]!.id)).toEqual([]);
      expect(await store.getById(leased[7]!.id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        dueAt: t1 + 1000,
      });
    });

    it("claims per target: one target's backlog does not hide another's", async () => {
      const store = await fresh();
      await store.insertBatch(
        Array.from({ length: 20 }, () => delivery({ ref: 'busy' })),
        T0,
      );
      await store.insertBatch([delivery({ ref: 'quiet' })], T0 + 5);
      const quiet = await store.claim(targetKey('tenant:acme', 'http', 'quiet'), 4, T0 + 10, LEASE);
      expect(quiet).toHaveLength(1);
      expect(await store.pendingTargets()).toEqual(
        expect.arrayContaining([
          { targetKey: targetKey('tenant:acme', 'http', 'busy'), kind: 'http', dueAt: T0 },
          {
            targetKey: targetKey('tenant:acme', 'http', 'quiet'),
            kind: 'http',
            dueAt: T0 + 10 + LEASE,
          },
        ]),
      );
    });

    it('in ordered mode offers only the oldest pending delivery of each partition key', async () => {
      const store = await fresh();
      const [k1a, k2a, k1b, k2b] = [
        delivery({ ordered: true, partitionKey: 'k1' }),
        delivery({ ordered: true, partitionKey: 'k2' }),
        delivery({ ordered: true, partitionKey: 'k1' }),
        delivery({ ordered: true, partitionKey: 'k2' }),
      ];
      await store.insertBatch([k1b!, k2b!, k1a!, k2a!], T0);
      const heads = await store.claim(KEY_A, 10, T0, LEASE);
      expect(heads.map((d) => d.event.id).sort()).toEqual([k1a!.event.id, k2a!.event.id].sort());

      // k1's head fails and waits; k2's head succeeds: k2 moves on, k1 stays blocked.
      const k1Head = heads.find((d) => d.partitionKey === 'k1')!;
      const k2Head = heads.find((d) => d.partitionKey === 'k2')!;
      await store.settleRetry(k1Head.id, k1Head.leaseToken, T0, T0 + 1000, 'HTTP 503');
      await store.settleDelivered(k2Head.id, k2Head.leaseToken, T0);
      expect((await store.claim(KEY_A, 10, T0 + 1, LEASE)).map((d) => d.event.id)).toEqual([
        k2b!.event.id,
      ]);
      expect(await store.nextDueAt(KEY_A)).toBe(T0 + 1000);
      const retried = await store.claim(KEY_A, 10, T0 + 1000, LEASE);
      expect(retried.map((d) => d.event.id)).toEqual([k1a!.event.id]);
      expect(retried[0]!.attempts).toBe(1);
      // A dead head unblocks its key (a poison event must not stop the key for ever).
      await store.settleDead(
        retried[0]!.id,
        retried[0]!.leaseToken,
        T0 + 1000,
        'HTTP 500',
        'max-attempts',
      );
      expect((await store.claim(KEY_A, 10, T0 + 1000, LEASE)).map((d) => d.event.id)).toEqual([
        k1b!.event.id,
      ]);
    });

    it('an ordered delivery waits for older ordered ones of its key, not for unordered ones', async () => {
      const store = await fresh();
      // Another rule sends the same events to the same destination without ordering.
      const loose = delivery({ partitionKey: 'k1', ruleId: 'r2' });
      const first = delivery({ ordered: true, partitionKey: 'k1' });
      const second = delivery({ ordered: true, partitionKey: 'k1' });
      await store.insertBatch([loose, first, second], T0);
      const claimed = await store.claim(KEY_A, 10, T0, LEASE);
      expect(claimed.map((d) => d.event.id).sort()).toEqual(
        [loose.event.id, first.event.id].sort(),
      );
    });

    it('never hands one delivery to two concurrent claimers', async () => {
      const store = await fresh();
      await store.insertBatch(
        Array.from({ length: 60 }, () => delivery()),
        T0,
      );
      const claims = await Promise.all(
        Array.from({ length: 6 }, () => store.claim(KEY_A, 15, T0, LEASE)),
      );
      const ids = claims.flat().map((d) => d.id);
      expect(ids).toHaveLength(60);
      expect(new Set(ids).size).toBe(60);
    });

    it("sends a gone target's pending deliveries to the DLQ, but not one an attempt holds", async () => {
      const store = await fresh();
      await store.insertBatch([delivery(), delivery(), delivery({ ref: 'b' })], T0);
      const [held] = await store.claim(KEY_A, 1, T0, LEASE);
      expect(await store.deadLetterPending([KEY_A], 'endpoint-not-found', 'deleted', T0 + 1)).toBe(
        1,
      );
      const dead = (await store.listDead({ owner: 'tenant:acme' }, { limit: 10 })).entries;
      expect(dead).toMatchObject([
        { reason: 'endpoint-not-found', lastError: 'deleted', deadAt: T0 + 1, attempts: 0 },
      ]);
      expect(dead[0]!.id).not.toBe(held!.id);
      // The attempt still settles its own delivery; the other target is untouched.
      expect(await store.settleDelivered(held!.id, held!.leaseToken, T0 + 2)).toBe(true);
      expect(await store.claim(targetKey('tenant:acme', 'http', 'b'), 10, T0, LEASE)).toHaveLength(
        1,
      );
    });

    it('replays at most the limit per call, the oldest first, and says when there is more', async () => {
      const store = await fresh();
      await store.insertBatch([delivery(), delivery(), delivery()], T0);
      const claimed = await store.claim(KEY_A, 10, T0, LEASE);
      for (const [i, d] of claimed.entries())
        await store.settleDead(d.id, d.leaseToken, T0 + i * 10, 'boom', 'max-attempts');
      const oldest = claimed.slice(0, 2).map((d) => d.id);
      expect(await store.replay({ owner: 'tenant:acme' }, T0 + 100, 2)).toEqual({
        replayed: 2,
        targetKeys: [KEY_A],
        more: true,
      });
      const pending = await store.claim(KEY_A, 10, T0 + 100, LEASE);
      expect(pending.map((d) => d.id).sort()).toEqual([...oldest].sort());
      expect(await store.replay({ owner: 'tenant:acme' }, T0 + 100, 2)).toEqual({
        replayed: 1,
        targetKeys: [KEY_A],
        more: false,
      });
    });

    it('lists the DLQ newest first with a cursor, and replays a selection with a fresh budget', async () => {
      const store = await fresh();
      await store.insertBatch(
        [
          delivery(),
          delivery(),
          delivery({ ruleId: 'r2' }),
          delivery({ owner: 'tenant:other', tenant: 'other' }),
        ],
        T0,
      );
      const claimed = [
        ...(await store.claim(KEY_A, 10, T0, LEASE)),
        ...(await store.claim(targetKey('tenant:other', 'http', 'a'), 10, T0, LEASE)),
      ];
      for (const [i, d] of claimed.entries())
        await store.settleDead(d.id, d.leaseToken, T0 + i * 10, 'boom', 'max-attempts');

      const page1 = await store.listDead({ owner: 'tenant:acme' }, { limit: 2 });
      expect(page1.entries.map((e) => e.deadAt)).toEqual([T0 + 20, T0 + 10]);
      const page2 = await store.listDead(
        { owner: 'tenant:acme' },
        { limit: 2, after: page1.next! },
      );
      expect(page2.entries.map((e) => e.deadAt)).toEqual([T0]);
      expect(page2.next).toBeUndefined();
      expect(
        (await store.listDead({ owner: 'tenant:acme', ruleId: 'r2' }, { limit: 10 })).entries,
      ).toHaveLength(1);
      expect(
        (
          await store.listDead(
            { owner: 'tenant:acme', since: T0 + 5, until: T0 + 15 },
            { limit: 10 },
          )
        ).entries,
      ).toHaveLength(1);
      expect(await store.deadCounts()).toEqual(
        expect.arrayContaining([
          { owner: 'tenant:acme', kind: 'http', ref: 'a', count: 3 },
          { owner: 'tenant:other', kind: 'http', ref: 'a', count: 1 },
        ]),
      );

      const replay = await store.replay({ owner: 'tenant:acme', ruleId: 'r1' }, T0 + 100);
      expect(replay).toEqual({ replayed: 2, targetKeys: [KEY_A], more: false });
      const back = await store.claim(KEY_A, 10, T0 + 100, LEASE);
      expect(back).toHaveLength(2);
      expect(
        back.every(
          (d) =>
            d.attempts === 0 &&
            d.replays === 1 &&
            d.startedAt === T0 + 100 &&
            d.lastError === 'boom',
        ),
      ).toBe(true);
      // Another owner's entries are out of reach of this owner's selectors.
      expect(await store.replay({ owner: 'tenant:acme' }, T0 + 100)).toEqual({
        replayed: 1,
        targetKeys: [KEY_A],
        more: false,
      });
      expect((await store.listDead({ owner: 'tenant:other' }, { limit: 10 })).entries).toHaveLength(
        1,
      );
    });

    it('takes no DLQ cursor it did not make: values the engine cannot compare are refused', async () => {
      // On PostgreSQL these reached the query and failed it (a 500 on both DLQ listings).
      const store = await fresh();
      for (const forged of [
        '[1.5,"x"]',
        '[1e300,"x"]',
        '[-1e30,"x"]',
        '[9223372036854775808,"x"]',
        '[1e999,"x"]',
        '[0,"a\\u0000b"]',
        `[0,"${'x'.repeat(200)}"]`,
      ]) {
        const cursor = Buffer.from(forged).toString('base64url');
        expect(decodeCursor(cursor), forged).toBeUndefined();
        expect(
          (await store.listDead({ owner: 'tenant:acme' }, { limit: 2, after: cursor })).entries,
        ).toEqual([]);
      }
      expect(decodeCursor(Buffer.from('[1700000000000,"x"]').toString('base64url'))).toEqual({
        deadAt: 1_700_000_000_000,
        id: 'x',
      });
    });

    it("pages a target's attempts that share one millisecond: each exactly once, in order", async () => {
      // A burst settles many attempts in one millisecond; a cursor of the time alone
      // skipped (or repeated) the ones at a page boundary.
      await fresh();
      const db = opened[opened.length - 1]!;
      const log = new AttemptLog(db);
      const record = (deliveryId: string, replay: number, attempt: number, startedAt: number) => ({
        deliveryId,
        replay,
        attempt,
        owner: 'tenant:acme',
        targetKey: KEY_A,
        startedAt,
        durationMs: 1,
        outcome: 'retry' as const,
        statusCode: 503,
        error: null,
        response: null,
        retryAfterMs: null,
        nextAttemptAt: null,
        deadReason: null,
      });
      const written: AttemptRecord[] = [record('d-late', 0, 1, T0 + 1)];
      for (const id of ['d-a', 'd-b', 'd-c', 'd-d'])
        for (const replay of [0, 1])
          for (const attempt of [1, 2, 3]) written.push(record(id, replay, attempt, T0));
      written.push(record('d-early', 0, 1, T0 - 1));
      // Another target's attempts in the same millisecond are never listed.
      const other = {
        ...record('d-x', 0, 1, T0),
        targetKey: targetKey('tenant:acme', 'http', 'b'),
      };
      for (const r of [...written, other]) {
        const { sql, params } = insertAttempt(r);
        await db.execute(sql, params);
      }
      const id = (r: AttemptRecord) => `${r.startedAt}/${r.deliveryId}/${r.replay}/${r.attempt}`;
      const target = { owner: 'tenant:acme', kind: 'http', ref: 'a' };

      for (const limit of [1, 2, 5, 7]) {
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 100; pages++) {
          const page = await log.pageForTarget(target, {
            limit,
            ...(after ? { after: decodeAttemptCursor(after)! } : {}),
          });
          expect(page.attempts.length).toBeLessThanOrEqual(limit);
          seen.push(...page.attempts.map(id));
          if (!page.next) break;
          after = page.next;
        }
        expect(seen, `limit ${limit}`).toEqual([...written].sort(newestAttemptFirst).map(id));
      }
      // A plain time still lists what started before it.
      const older = await log.pageForTarget(target, { limit: 100, before: T0 });
      expect(older.attempts.map(id)).toEqual([`${T0 - 1}/d-early/0/1`]);
      expect(older.next).toBeUndefined();
    });

    it('takes no attempt-log cursor it did not make; the largest values it takes reach the engine', async () => {
      await fresh();
      const log = new AttemptLog(opened[opened.length - 1]!);
      for (const forged of [
        '[1700000000000,"d",0]',
        '[1700000000000,"d",0,1,2]',
        '{"startedAt":1700000000000,"deliveryId":"d","replay":0,"attempt":1}',
        '[1.5,"d",0,1]',
        '[1e300,"d",0,1]',
        '[-1,"d",0,1]',
        '[9223372036854775808,"d",0,1]',
        '["1700000000000","d",0,1]',
        '[1700000000000,"d",2147483648,1]',
        '[1700000000000,"d",0,2147483648]',
        '[1700000000000,"d",0.5,1]',
        '[1700000000000,"d",0,-1]',
        '[1700000000000,"a\\u0000b",0,1]',
        `[1700000000000,"${'x'.repeat(200)}",0,1]`,
        '[1700000000000,7,0,1]',
        'not json',
      ]) {
        expect(
          decodeAttemptCursor(Buffer.from(forged).toString('base64url')),
          forged,
        ).toBeUndefined();
      }
      expect(decodeAttemptCursor('2025-01-01T00:00:00.000Z')).toBeUndefined();
      expect(decodeAttemptCursor('W'.repeat(600))).toBeUndefined();
      const largest = {
        startedAt: Number.MAX_SAFE_INTEGER,
        deliveryId: 'x'.repeat(128),
        replay: 2_147_483_647,
        attempt: 2_147_483_647,
      };
      const cursor = encodeAttemptCursor(largest);
      expect(decodeAttemptCursor(cursor)).toEqual(largest);
      // PostgreSQL takes each value the decoder lets through (bigint, integer, text).
      expect(
        await log.pageForTarget(
          { owner: 'tenant:acme', kind: 'http', ref: 'a' },
          { limit: 2, after: decodeAttemptCursor(cursor)! },
        ),
      ).toEqual({ attempts: [] });
    });

    it('purges old delivered rows and old DLQ entries only, with their attempt records', async () => {
      const store = await fresh();
      const log = new AttemptLog(opened[opened.length - 1]!);
      await store.insertBatch([delivery(), delivery(), delivery()], T0);
      const [a, b] = await store.claim(KEY_A, 2, T0, LEASE);
      await store.settleDelivered(a!.id, a!.leaseToken, T0, attemptOn(a!, T0));
      await store.settleDead(b!.id, b!.leaseToken, T0, 'x', 'max-age', attemptOn(b!, T0));
      expect(await store.purge(T0 + 1, T0)).toBe(1);
      expect(await store.getById(a!.id)).toBeUndefined();
      expect(await log.forDelivery(a!.id)).toEqual([]);
      expect(await store.getById(b!.id)).toBeDefined();
      expect(await log.forDelivery(b!.id)).toHaveLength(1);
      expect(await store.purge(T0 + 1, T0 + 1)).toBe(1);
      expect(await log.forDelivery(b!.id)).toEqual([]);
      expect(await store.pendingTargets()).toHaveLength(1);
    });

    it('can send a delivery to the DLQ without counting an attempt (deferred too long)', async () => {
      const store = await fresh();
      await store.insertBatch([delivery()], T0);
      const [d] = await store.claim(KEY_A, 1, T0, LEASE);
      expect(
        await store.settleDead(
          d!.id,
          d!.leaseToken,
          T0 + 5,
          'deferred',
          'max-age',
          undefined,
          false,
        ),
      ).toBe(true);
      expect(await store.getById(d!.id)).toMatchObject({
        status: 'dead',
        attempts: 0,
        lastAttemptAt: null,
        deadAt: T0 + 5,
        reason: 'max-age',
      });
    });

    it('logs each settled attempt with its settle, across replays; a lost lease logs nothing', async () => {
      const store = await fresh();
      const log = new AttemptLog(opened[opened.length - 1]!);
      await store.insertBatch([delivery()], T0);
      const [first] = await store.claim(KEY_A, 1, T0, LEASE);
      const retryAt = T0 + 1000;
      expect(
        await store.settleRetry(first!.id, first!.leaseToken, T0 + 10, retryAt, 'HTTP 503', {
          ...attemptOn(first!, T0 + 10),
          retryAfterMs: 1000,
          nextAttemptAt: retryAt,
        }),
      ).toBe(true);
      // A stale holder's late answer: nothing changes, nothing is logged.
      expect(
        await store.settleDelivered(first!.id, first!.leaseToken, T0 + 20, attemptOn(first!, T0)),
      ).toBe(false);
      const [second] = await store.claim(KEY_A, 1, retryAt, LEASE);
      await store.settleDead(second!.id, second!.leaseToken, retryAt + 10, 'gone', 'http-410', {
        ...attemptOn(second!, retryAt + 10),
        outcome: 'failed',
        statusCode: 410,
        response: null,
        deadReason: 'http-410',
      });
      await store.replay({ owner: 'tenant:acme', id: first!.id }, retryAt + 100);
      const [third] = await store.claim(KEY_A, 1, retryAt + 100, LEASE);
      await store.settleDelivered(
        third!.id,
        third!.leaseToken,
        retryAt + 110,
        attemptOn(third!, retryAt + 110, { outcome: 'delivered', error: null, statusCode: 200 }),
      );

      const attempts = await log.forDelivery(first!.id);
      expect(attempts.map((a) => [a.replay, a.attempt, a.outcome, a.statusCode])).toEqual([
        [0, 1, 'retry', 503],
        [0, 2, 'failed', 410],
        [1, 1, 'delivered', 200],
      ]);
      expect(attempts[0]).toMatchObject({
        retryAfterMs: 1000,
        nextAttemptAt: retryAt,
        durationMs: 5,
        targetKey: KEY_A,
      });
      expect(attempts[0]!.response).toHaveLength(1025); // 1 KiB and an ellipsis
      expect(attempts[1]).toMatchObject({ deadReason: 'http-410', response: null });
      const recent = await log.forTarget(
        { owner: 'tenant:acme', kind: 'http', ref: 'a' },
        { limit: 2 },
      );
      expect(recent.map((a) => a.outcome)).toEqual(['delivered', 'failed']);
      expect(
        await log.forTarget({ owner: 'tenant:other', kind: 'http', ref: 'a' }, { limit: 10 }),
      ).toEqual([]);
    });
  });
}
