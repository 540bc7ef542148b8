import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWakeups, type WakeFilter, type Waiter } from './wakeups.ts';

const LONG = 60_000;

describe('wakeups', () => {
  // Timers never fire unless a test advances them: a sleep that resolves was woken.
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  /** Sleeps `waiter`; the returned check says, once pending callbacks ran, whether it woke. */
  const sleeping = (waiter: Waiter) => {
    let woke = false;
    void waiter.sleep(LONG).then(() => (woke = true));
    return async () => {
      await vi.advanceTimersByTimeAsync(0);
      return woke;
    };
  };
  const groups = (specs: Record<string, WakeFilter>) => (name: string) => specs[name];

  it("wakes on an append only the waiters whose group's tenant and topic pattern match", async () => {
    const wakeups = createWakeups(
      groups({
        acmeOrders: { tenant: 'acme', topicPattern: 'orders.*.order.>' },
        acmeAll: { tenant: 'acme' },
        acmeBilling: { tenant: 'acme', topicPattern: 'billing.>' },
        globexAll: { tenant: 'globex' },
        platformOrders: { topicPattern: 'orders.dev.order.created' },
        platformBilling: { topicPattern: 'billing.>' },
      }),
    );
    const names = [
      'acmeOrders',
      'acmeAll',
      'acmeBilling',
      'globexAll',
      'platformOrders',
      'platformBilling',
      'notFound',
    ];
    const checks = names.map((name) => sleeping(wakeups.arm(name)));

    wakeups.wakeFor([{ tenant: 'acme', topic: 'orders.dev.order.created' }]);

    const woke: Record<string, boolean> = {};
    for (const [i, name] of names.entries()) woke[name] = await checks[i]!();
    expect(woke).toEqual({
      acmeOrders: true,
      acmeAll: true,
      acmeBilling: false,
      globexAll: false,
      platformOrders: true,
      platformBilling: false,
      notFound: true, // unknown spec: woken by anything, the lease then says it is missing
    });
  });

  it('wakes a waiter for any one matching event of an append', async () => {
    const wakeups = createWakeups(groups({ g: { tenant: 'acme', topicPattern: 'billing.>' } }));
    const woke = sleeping(wakeups.arm('g'));
    wakeups.wakeFor([
      { tenant: 'globex', topic: 'billing.dev.invoice.paid' },
      { tenant: 'acme', topic: 'orders.dev.order.created' },
    ]);
    expect(await woke()).toBe(false);
    wakeups.wakeFor([
      { tenant: 'acme', topic: 'orders.dev.order.created' },
      { tenant: 'acme', topic: 'billing.dev.invoice.paid' },
    ]);
    expect(await woke()).toBe(true);
  });

  it('keeps a wake-up that comes before the waiter sleeps (while its lease is on the writer thread)', async () => {
    const wakeups = createWakeups(groups({ g: { tenant: 'acme' } }));
    const waiter = wakeups.arm('g');
    // The lease is in flight; an event committed after its transaction is announced now.
    wakeups.wakeFor([{ tenant: 'acme', topic: 'orders.dev.order.created' }]);
    // The lease came back empty: the pull goes to sleep, and must not sleep through it.
    expect(await sleeping(waiter)()).toBe(true);
  });

  it('wakes by group name (nack, change) and everyone on close', async () => {
    const wakeups = createWakeups(
      groups({ a: { tenant: 'acme' }, b: { tenant: 'acme' }, c: { topicPattern: 'billing.>' } }),
    );
    const a = sleeping(wakeups.arm('a'));
    const b = sleeping(wakeups.arm('b'));
    const c = sleeping(wakeups.arm('c'));
    wakeups.wakeGroup('b');
    expect([await a(), await b(), await c()]).toEqual([false, true, false]);
    wakeups.wakeAll();
    expect([await a(), await c()]).toEqual([true, true]);
  });

  it('remembers a spec until the group changes, then arms with the new one', async () => {
    const specs: Record<string, WakeFilter> = { g: { tenant: 'acme', topicPattern: 'billing.>' } };
    const specOf = vi.fn((name: string) => specs[name]);
    const wakeups = createWakeups(specOf);
    wakeups.arm('g').disarm();
    const before = sleeping(wakeups.arm('g'));
    expect(specOf).toHaveBeenCalledTimes(1);

    specs['g'] = { tenant: 'acme', topicPattern: 'orders.>' };
    wakeups.groupChanged('g');
    expect(await before()).toBe(true); // armed with the old spec: woken to re-arm
    const after = sleeping(wakeups.arm('g'));
    wakeups.wakeFor([{ tenant: 'acme', topic: 'orders.dev.order.created' }]);
    expect(await after()).toBe(true);
    expect(specOf).toHaveBeenCalledTimes(2);
  });

  it('ends a sleep at its time when nothing wakes it, and drops the timer when woken', async () => {
    const wakeups = createWakeups(groups({ a: { tenant: 'acme' }, b: { tenant: 'acme' } }));
    let woke = false;
    void wakeups
      .arm('a')
      .sleep(1_000)
      .then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(woke).toBe(true);

    void wakeups.arm('b').sleep(LONG);
    expect(vi.getTimerCount()).toBe(1);
    wakeups.wakeGroup('b');
    expect(vi.getTimerCount()).toBe(0);
  });
});
