/**
 * A claim reads the target's next due time after claiming; work that becomes due while that
 * read is on its way (a retry settled, an announcement) must still be looked at on time,
 * not when the discovery sweep or a lease expiry happens to find it.
 */
import { afterAll, expect, it } from 'vitest';
import { waitFor } from '../testing/wait-for.ts';
import { targetKey } from './delivery-store.ts';
import { dispatcherFixture } from './testing/dispatcher-fixture.ts';

const { setup, rows, cleanup } = dispatcherFixture('portico-due-during-claim-');
afterAll(cleanup);

it('a retry settled while the claim reads its next due time is attempted after its delay', async () => {
  let readDone!: () => void;
  const read = new Promise<void>((resolve) => (readDone = resolve));
  let retrySettled!: () => void;
  const settled = new Promise<void>((resolve) => (retrySettled = resolve));
  const attempts: number[] = [];
  const { db, store, dispatcher } = await setup(
    {
      async deliver(delivery) {
        attempts.push(Date.now());
        if (delivery.attempt > 1) return { outcome: 'delivered' };
        await read; // the claim's read has seen the store before this attempt's settle
        return { outcome: 'retry', error: 'try again' };
      },
    },
    { leaseMarginMs: 5_000 },
    { retry: { delaysMs: [50], maxAttempts: 2, jitter: 'none' } },
  );
  // The first answer of nextDueAt (the lease's expiry, ~15 s away) arrives only after the
  // retry (due in 50 ms) is settled and the dispatcher has taken note of it.
  const nextDueAt = store.nextDueAt.bind(store);
  let first = true;
  store.nextDueAt = async (key) => {
    const due = await nextDueAt(key);
    if (first) {
      first = false;
      readDone();
      await settled;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return due;
  };
  const settleRetry = store.settleRetry.bind(store);
  store.settleRetry = async (...args) => {
    const ok = await settleRetry(...args);
    retrySettled();
    return ok;
  };
  await store.insertBatch(rows(1), Date.now());
  await dispatcher.start();
  dispatcher.notify([{ key: targetKey('tenant:a', 'fast', 'x'), kind: 'fast' }]);
  await waitFor(() => attempts.length === 2, 'the second attempt', 3_000);
  await dispatcher.stop();
  expect(attempts[1]! - attempts[0]!).toBeLessThan(2_000);
  await db.close();
});
