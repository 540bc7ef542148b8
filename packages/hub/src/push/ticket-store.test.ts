import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.ts';
import { TicketLimitError, TicketStore } from './ticket-store.ts';

const principal = (tenant: string, expiresAtSec = 10_000): Principal => ({
  tenant,
  subject: 'u1',
  scopes: new Set(['events:read']),
  expiresAt: expiresAtSec,
});

describe('TicketStore', () => {
  it('redeems a ticket once, for the principal that minted it', () => {
    const store = new TicketStore({ ttlMs: 30_000, maxPerTenant: 10, now: () => 1_000 });
    const { ticket } = store.issue(principal('acme'));
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.redeem(ticket)?.tenant).toBe('acme');
    expect(store.redeem(ticket)).toBeUndefined();
    expect(store.redeem('made-up')).toBeUndefined();
  });

  it('expires after its TTL, or with the token when that comes first', () => {
    let now = 1_000_000;
    const store = new TicketStore({ ttlMs: 30_000, maxPerTenant: 10, now: () => now });
    const a = store.issue(principal('acme'));
    expect(a.expiresAt).toBe(1_030_000);
    const b = store.issue(principal('acme', 1_010)); // the token dies at 1_010_000 ms
    expect(b.expiresAt).toBe(1_010_000);
    now = 1_020_000;
    expect(store.redeem(b.ticket)).toBeUndefined();
    now = 1_030_001;
    expect(store.redeem(a.ticket)).toBeUndefined();
  });

  it('limits unused tickets per tenant, without affecting other tenants, and sweeps expired ones', () => {
    let now = 0;
    const store = new TicketStore({ ttlMs: 1_000, maxPerTenant: 2, now: () => now });
    store.issue(principal('acme'));
    store.issue(principal('acme'));
    expect(() => store.issue(principal('acme'))).toThrow(TicketLimitError);
    expect(() => store.issue(principal('globex'))).not.toThrow();
    now = 5_000; // the two acme tickets have expired: issuing sweeps them
    expect(() => store.issue(principal('acme'))).not.toThrow();
    store.sweep();
    expect(store.size).toBe(1);
  });
});
