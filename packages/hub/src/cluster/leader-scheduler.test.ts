import { describe, expect, it } from 'vitest';
import { createLeadership } from './leader-scheduler.ts';
import type { LeaseBackend } from './leadership.ts';
import { createLocalLeases } from './local-leases.ts';

/** A backend whose leases the test hands out and takes away. */
function fakeBackend() {
  const free = new Set<string>();
  const held = new Set<string>();
  let closed = false;
  let failing = false;
  const backend: LeaseBackend = {
    kind: 'postgres',
    tryAcquire: async (name) => {
      if (failing) throw new Error('engine down');
      if (free.delete(name)) held.add(name);
      return held.has(name);
    },
    release: async (name) => {
      held.delete(name);
    },
    verify: async () => held,
    close: async () => {
      closed = true;
    },
  };
  return {
    backend,
    grant: (name: string) => free.add(name),
    revoke: (name: string) => held.delete(name),
    fail: (on: boolean) => (failing = on),
    closed: () => closed,
  };
}

describe('leader chores', () => {
  it('runs a chore only while its lease is held, and aborts it when the lease is lost', async () => {
    const fake = fakeBackend();
    const errors: unknown[] = [];
    const leadership = createLeadership(fake.backend, {
      checkIntervalMs: 10,
      onError: (e) => errors.push(e),
    });
    let runs = 0;
    let aborted = 0;
    leadership.runAsLeader(
      'retention',
      (signal) =>
        new Promise<void>((resolve) => {
          runs++;
          signal.addEventListener('abort', () => {
            aborted++;
            resolve();
          });
        }),
      { intervalMs: 1 },
    );
    expect(leadership.isLeader('retention')).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toBe(0);

    fake.grant('retention');
    await expect.poll(() => leadership.isLeader('retention')).toBe(true);
    await expect.poll(() => runs).toBe(1);
    expect(leadership.status()).toEqual([{ name: 'retention', leader: true }]);

    fake.revoke('retention');
    await expect.poll(() => aborted).toBe(1);
    expect(leadership.isLeader('retention')).toBe(false);
    expect(runs).toBe(1); // a chore never overlaps itself, and never runs without the lease

    fake.fail(true);
    await expect.poll(() => errors.length > 0).toBe(true);
    await leadership.stop();
    expect(fake.closed()).toBe(true);
  });

  it('runs chores at their interval on the embedded store (always leader) and stops them', async () => {
    const leadership = createLeadership(createLocalLeases(), { checkIntervalMs: 10 });
    let runs = 0;
    const failures: unknown[] = [];
    leadership.runAsLeader(
      'housekeeping',
      async () => {
        runs++;
        if (runs === 2) throw new Error('boom');
      },
      { intervalMs: 5, onError: (e) => failures.push(e) },
    );
    expect(() => leadership.runAsLeader('housekeeping', async () => {}, { intervalMs: 5 })).toThrow(
      /already runs/,
    );
    await expect.poll(() => runs >= 3).toBe(true);
    expect(failures).toHaveLength(1);
    expect(leadership.isLeader('housekeeping')).toBe(true);
    await leadership.stop();
    const after = runs;
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toBe(after);
    expect(leadership.isLeader('housekeeping')).toBe(false);
  });

  it('gives a lease up when its chore is cancelled', async () => {
    const fake = fakeBackend();
    const leadership = createLeadership(fake.backend, { checkIntervalMs: 10 });
    fake.grant('a');
    const cancel = leadership.runAsLeader('a', async () => {}, { intervalMs: 1000 });
    await expect.poll(() => leadership.isLeader('a')).toBe(true);
    cancel();
    expect(leadership.isLeader('a')).toBe(false);
    expect(leadership.status()).toEqual([]);
    await leadership.stop();
  });
});
