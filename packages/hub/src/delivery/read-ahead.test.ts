/**
 * The dispatcher's read-ahead on a real SQLite store: a fast target holds leases beyond its
 * slots (so a freed slot starts the next delivery without waiting for a commit), but never
 * has more attempts in flight than its slots, and a stop gives the ready ones back.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { targetKey, type DeliveryStore, type NewDelivery } from './delivery-store.ts';
import type { Dispatcher } from './dispatcher.ts';
import { count, dispatcherFixture } from './testing/dispatcher-fixture.ts';

const { setup, rows, cleanup } = dispatcherFixture('portico-read-ahead-');
afterAll(cleanup);

describe('dispatcher read-ahead', () => {
  it('leases ahead for a fast target but never runs more attempts than its slots', async () => {
    let inflight = 0;
    let most = 0;
    let done = 0;
    const { db, store, dispatcher } = await setup({
      async deliver() {
        most = Math.max(most, ++inflight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inflight--;
        done++;
        return { outcome: 'delivered' };
      },
    });
    await store.insertBatch(rows(60), Date.now());
    await dispatcher.start();
    dispatcher.notify([{ key: targetKey('tenant:a', 'fast', 'x'), kind: 'fast' }]);
    const deadline = Date.now() + 20_000;
    while ((await count(db, "status = 'delivered'")) < 60 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await dispatcher.stop();
    expect(done).toBe(60);
    expect(most).toBe(2);
    expect(await count(db, "status = 'delivered' and attempts = 1")).toBe(60);
    await db.close();
  });

  it('gives ready deliveries back on stop, unattempted', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const { db, store, dispatcher } = await setup({
      async deliver(_d, signal) {
        started++;
        // The first two are quick (the target looks fast), then attempts wait for the stop.
        if (started <= 2) return { outcome: 'delivered' };
        await Promise.race([
          held,
          new Promise((resolve) => signal.addEventListener('abort', resolve)),
        ]);
        return { outcome: 'delivered' };
      },
    });
    await store.insertBatch(rows(40), Date.now());
    await dispatcher.start();
    dispatcher.notify([{ key: targetKey('tenant:a', 'fast', 'x'), kind: 'fast' }]);
    const deadline = Date.now() + 20_000;
    // Two attempts hang in their slots while 30 more deliveries are leased, ready (a fast
    // target holds up to 16 times its slots).
    while ((await count(db, 'lease_token is not null')) < 32 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await count(db, 'lease_token is not null')).toBe(32);
    await dispatcher.stop();
    release();
    expect(started).toBe(4);
    expect(await count(db, 'lease_token is not null')).toBe(0);
    expect(await count(db, "status = 'delivered'")).toBe(2);
    expect(await count(db, "status = 'pending' and attempts = 0")).toBe(38);
    await db.close();
  });
});

describe('routed deliveries leased at insert', () => {
  const KEY = targetKey('tenant:a', 'fast', 'x');

  /** Routes as the router does: leases, insert, then the insert's outcome. */
  async function route(store: DeliveryStore, dispatcher: Dispatcher, batch: NewDelivery[]) {
    const lease = dispatcher.leaseRouted(batch);
    lease.accept((await store.insertBatch(batch, Date.now())).leased);
    return batch.filter((r) => r.lease).length;
  }

  async function until(check: () => Promise<boolean>) {
    const deadline = Date.now() + 20_000;
    while (!(await check()) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
  }

  it('start from memory, without a claim, once the target is known to be fast', async () => {
    let done = 0;
    const { db, store, dispatcher } = await setup({
      async deliver() {
        done++;
        return { outcome: 'delivered' };
      },
    });
    const claim = vi.spyOn(store, 'claim');
    await dispatcher.start();
    // Not yet measured: no read-ahead, so its two slots' worth.
    expect(await route(store, dispatcher, rows(2))).toBe(2);
    await until(async () => (await count(db, "status = 'delivered'")) === 2);
    // Measured fast: up to 16 times its slots.
    expect(await route(store, dispatcher, rows(30, 2))).toBe(30);
    await until(async () => (await count(db, "status = 'delivered'")) === 32);
    await dispatcher.stop();
    expect(done).toBe(32);
    expect(claim).not.toHaveBeenCalled();
    expect(await count(db, "status = 'delivered' and attempts = 1")).toBe(32);
    await db.close();
  });

  it('leave claims a slot’s worth of room while older work is due', async () => {
    const { db, dispatcher } = await setup({
      deliver: async () => ({ outcome: 'delivered' }),
    });
    // Older work was announced and is due: this batch must not take all the room.
    dispatcher.notify([{ key: KEY, kind: 'fast' }]);
    const batch = rows(5);
    const lease = dispatcher.leaseRouted(batch);
    expect(batch.filter((r) => r.lease)).toHaveLength(0);
    lease.cancel();
    await dispatcher.stop();
    await db.close();
  });

  it('a failed insert voids the leases, and a row routed again is not leased twice', async () => {
    const { db, store, dispatcher } = await setup({
      deliver: async () => ({ outcome: 'delivered' }),
    });
    const batch = rows(2);
    const lease = dispatcher.leaseRouted(batch);
    expect(batch.every((r) => r.lease)).toBe(true);
    lease.cancel();
    expect(batch.some((r) => r.lease)).toBe(false);
    // The voided leases gave the room back.
    expect(await route(store, dispatcher, batch)).toBe(2);
    // The same rows again (a redelivered event): leased, but the insert skips them.
    const again = rows(2);
    const second = dispatcher.leaseRouted(again);
    const inserted = await store.insertBatch(again, Date.now());
    expect(inserted).toEqual({ inserted: 0, leased: [] });
    second.accept(inserted.leased);
    await until(async () => (await count(db, "status = 'delivered'")) === 2);
    await dispatcher.stop();
    expect(await count(db, "status = 'delivered' and attempts = 1")).toBe(2);
    await db.close();
  });

  it('no target reads ahead while the ready deliveries hold more event JSON than allowed', async () => {
    for (const readAheadChars of [undefined, 1]) {
      let started = 0;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const { db, store, dispatcher } = await setup(
        {
          async deliver(_d, signal) {
            // The first two are quick (the target looks fast), then attempts hang.
            if (++started <= 2) return { outcome: 'delivered' };
            await Promise.race([
              held,
              new Promise((resolve) => signal.addEventListener('abort', resolve)),
            ]);
            return { outcome: 'delivered' };
          },
        },
        readAheadChars === undefined ? {} : { readAheadChars },
      );
      await route(store, dispatcher, rows(2));
      await until(async () => (await count(db, "status = 'delivered'")) === 2);
      // Two hang in their slots, eighteen wait ready.
      expect(await route(store, dispatcher, rows(20, 2))).toBe(20);
      // Room left: 16 × 2 slots - 20, unless the ready ones are over the budget.
      expect(await route(store, dispatcher, rows(20, 22))).toBe(
        readAheadChars === undefined ? 12 : 0,
      );
      await dispatcher.stop();
      release();
      await db.close();
    }
  });
});
