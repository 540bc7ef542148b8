/**
 * Stream tickets: the browser's EventSource (and WebSocket) cannot send an Authorization
 * header, and a long-lived token in a URL ends up in proxy logs and browser history. A
 * ticket is a random 256-bit string, minted with a bearer token, that stands for that
 * token's principal for `ttlMs` and can be redeemed once.
 *
 * Tickets live in this node's memory, keyed by their SHA-256 (the ticket itself is never
 * stored). In a multi-node deployment the stream request must reach the node that minted
 * the ticket (sticky routing), or the client mints it on the node it streams from.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';

export type TicketStoreOptions = {
  ttlMs: number;
  /** Outstanding (unredeemed, unexpired) tickets per tenant. */
  maxPerTenant: number;
  now?: () => number;
};

type Held = { principal: Principal; expiresAt: number };

export class TicketLimitError extends Error {
  override name = 'TicketLimitError';
}

export class TicketStore {
  readonly #tickets = new Map<string, Held>();
  readonly #perTenant = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #maxPerTenant: number;
  readonly #now: () => number;

  constructor(options: TicketStoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxPerTenant = options.maxPerTenant;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#tickets.size;
  }

  /** Mints a ticket for `principal`; it expires after the TTL or with the token, if sooner. */
  issue(principal: Principal): { ticket: string; expiresAt: number } {
    const count = this.#perTenant.get(principal.tenant) ?? 0;
    if (count >= this.#maxPerTenant) {
      this.sweep();
      if ((this.#perTenant.get(principal.tenant) ?? 0) >= this.#maxPerTenant)
        throw new TicketLimitError(
          `tenant "${principal.tenant}" has ${this.#maxPerTenant} unused stream tickets outstanding`,
        );
    }
    const ticket = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(this.#now() + this.#ttlMs, principal.expiresAt * 1000);
    this.#tickets.set(hash(ticket), { principal, expiresAt });
    this.#perTenant.set(principal.tenant, (this.#perTenant.get(principal.tenant) ?? 0) + 1);
    return { ticket, expiresAt };
  }

  /** The principal the ticket stands for, once; undefined if unknown, used or expired. */
  redeem(ticket: string): Principal | undefined {
    const key = hash(ticket);
    const held = this.#tickets.get(key);
    if (!held) return undefined;
    this.#forget(key, held);
    return held.expiresAt > this.#now() ? held.principal : undefined;
  }

  /** Drops expired tickets (called periodically by the gateway). */
  sweep(): void {
    const now = this.#now();
    for (const [key, held] of this.#tickets) if (held.expiresAt <= now) this.#forget(key, held);
  }

  #forget(key: string, held: Held): void {
    this.#tickets.delete(key);
    const left = (this.#perTenant.get(held.principal.tenant) ?? 1) - 1;
    if (left <= 0) this.#perTenant.delete(held.principal.tenant);
    else this.#perTenant.set(held.principal.tenant, left);
  }
}

function hash(ticket: string): string {
  return createHash('sha256').update(ticket).digest('base64url');
}
