/** What both state-store engines must do for stream tickets (SQLite and PostgreSQL). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { PUSH_MIGRATIONS } from './migrations.ts';
import { TicketLimitError, TicketStore, type TicketStoreOptions } from './ticket-store.ts';

const principal = (tenant: string, expiresAtSec = 10_000_000): Principal => ({
  tenant,
  subject: 'u1',
  scopes: new Set(['events:read', 'events:publish']),
  expiresAt: expiresAtSec,
});

export function describeTicketStoreContract(name: string, open: () => Promise<SqlDatabase>) {
  describe(`stream ticket store (${name})`, () => {
    let db: SqlDatabase;
    let now = 1_000_000;
    const store = (options: Omit<TicketStoreOptions, 'db' | 'now'>) =>
      new TicketStore({ db, now: () => now, ...options });
    beforeEach(async () => {
      now = 1_000_000;
      db = await open();
      await db.migrate(PUSH_MIGRATIONS);
      await db.migrate(PUSH_MIGRATIONS); // applying twice is a no-op
    });
    afterEach(() => db.close());

    it('redeems a ticket once, for the principal that minted it, on another store instance', async () => {
      const { ticket } = await store({ ttlMs: 30_000, maxPerTenant: 10 }).issue(principal('acme'));
      expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // Another node: another TicketStore on the same database.
      const other = store({ ttlMs: 30_000, maxPerTenant: 10 });
      expect((await other.redeem(ticket))?.principal).toEqual(principal('acme'));
      expect(await other.redeem(ticket)).toBeUndefined();
      expect(await other.redeem('made-up')).toBeUndefined();
    });

    it('stores only a hash of the ticket', async () => {
      const { ticket } = await store({ ttlMs: 30_000, maxPerTenant: 10 }).issue(principal('acme'));
      const rows = await db.query('select * from stream_tickets');
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(ticket);
    });

    it('expires after its TTL, or with the token when that comes first', async () => {
      const tickets = store({ ttlMs: 30_000, maxPerTenant: 10 });
      const a = await tickets.issue(principal('acme'));
      expect(a.expiresAt).toBe(1_030_000);
      const b = await tickets.issue(principal('acme', 1_010)); // the token dies at 1_010_000 ms
      expect(b.expiresAt).toBe(1_010_000);
      const c = await tickets.issue(principal('acme'));
      now = 1_020_000;
      expect(await tickets.redeem(b.ticket)).toBeUndefined();
      expect((await tickets.redeem(c.ticket))?.principal.tenant).toBe('acme');
      now = 1_030_000;
      expect(await tickets.redeem(a.ticket)).toBeUndefined();
    });

    it('limits unused tickets per tenant, without affecting other tenants; expired ones stop counting and are swept', async () => {
      const tickets = store({ ttlMs: 1_000, maxPerTenant: 2 });
      const first = await tickets.issue(principal('acme'));
      await tickets.issue(principal('acme'));
      await expect(tickets.issue(principal('acme'))).rejects.toThrow(TicketLimitError);
      await tickets.issue(principal('globex'));
      // A redeemed ticket frees its place.
      await tickets.redeem(first.ticket);
      await tickets.issue(principal('acme'));
      await expect(tickets.issue(principal('acme'))).rejects.toThrow(TicketLimitError);

      now += 5_000; // every ticket has expired
      await tickets.issue(principal('acme'));
      expect(await tickets.size()).toBe(4);
      expect(await tickets.sweep()).toBe(3);
      expect(await tickets.size()).toBe(1);
    });

    it('keeps the cap under concurrent issues', async () => {
      const tickets = store({ ttlMs: 30_000, maxPerTenant: 5 });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => tickets.issue(principal('acme'))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(TicketLimitError);
    });

    it('takes a ticket back from a redemption whose stream was refused: redeemable once more, on any node, until it expires', async () => {
      const [minter, refuser, retrier] = Array.from({ length: 3 }, () =>
        store({ ttlMs: 30_000, maxPerTenant: 10 }),
      );
      const { ticket, expiresAt } = await minter!.issue(principal('acme'));
      const refused = await refuser!.redeem(ticket);
      expect(await retrier!.redeem(ticket)).toBeUndefined(); // spent while it is out
      await refused!.giveBack();
      const rows = await db.query<{ expires_at: number | string }>(
        'select expires_at from stream_tickets',
      );
      expect(rows.map((r) => Number(r.expires_at))).toEqual([expiresAt]); // the same lifetime
      const retried = await Promise.all(
        Array.from({ length: 8 }, (_, i) => [minter, refuser, retrier][i % 3]!.redeem(ticket)),
      );
      expect(retried.filter((r) => r !== undefined).map((r) => r!.principal)).toEqual([
        principal('acme'),
      ]);

      // Given back after its lifetime, it is not stored again.
      const late = await minter!.issue(principal('acme'));
      const redeemed = await refuser!.redeem(late.ticket);
      now = late.expiresAt;
      await redeemed!.giveBack();
      expect(await minter!.size()).toBe(0);
    });

    it('gives a ticket to exactly one of concurrent redemptions', async () => {
      const nodes = Array.from({ length: 4 }, () => store({ ttlMs: 30_000, maxPerTenant: 50 }));
      for (let round = 0; round < 10; round++) {
        const { ticket } = await nodes[0]!.issue(principal('acme'));
        const redeemed = await Promise.all(
          Array.from({ length: 8 }, (_, i) => nodes[i % nodes.length]!.redeem(ticket)),
        );
        expect(redeemed.filter((p) => p !== undefined)).toHaveLength(1);
      }
    });
  });
}
