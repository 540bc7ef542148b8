/**
 * Stream tickets: the browser's EventSource (and WebSocket) cannot send an Authorization
 * header, and a long-lived token in a URL ends up in proxy logs and browser history. A
 * ticket is a random 256-bit string, minted with a bearer token, that stands for that
 * token's principal for `ttlMs` and can be redeemed once.
 *
 * Tickets live in the hub's state store (SQLite embedded, PostgreSQL in a cluster), keyed
 * by their SHA-256 (the ticket itself is never stored), so any node redeems a ticket that
 * any other node minted: no sticky routing needed. Redemption is one `DELETE … RETURNING`,
 * so of concurrent redemptions exactly one gets the row. Expired rows do not count towards
 * the per-tenant cap and are removed by `sweep()`, a leader chore (one node at a time).
 *
 * A redemption whose stream is then refused (a connection limit, a draining node) gives the
 * ticket back: the row is inserted again, unchanged. Only the redeemer that holds the row
 * can do that, and only while its stream has not opened, so a ticket still opens at most
 * one stream, on any node.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { lockTenant } from '../store/tenant-lock.ts';

export type TicketStoreOptions = {
  db: SqlDatabase;
  ttlMs: number;
  /** Outstanding (unredeemed, unexpired) tickets per tenant. */
  maxPerTenant: number;
  now?: () => number;
};

export class TicketLimitError extends Error {
  override name = 'TicketLimitError';
}

type StoredPrincipal = { tenant: string; subject: string; scopes: string[]; expiresAt: number };

/** A redeemed ticket: the principal it stands for, and a way to undo the redemption. */
export type RedeemedTicket = {
  principal: Principal;
  /**
   * Puts the ticket back, unspent, for the rest of its lifetime (nothing once it has
   * expired). For a stream refused after the redemption: the client may retry with the
   * same ticket. Call it only when no stream was opened with the ticket.
   */
  giveBack(): Promise<void>;
};

export class TicketStore {
  readonly #db: SqlDatabase;
  readonly #ttlMs: number;
  readonly #maxPerTenant: number;
  readonly #now: () => number;

  constructor(options: TicketStoreOptions) {
    this.#db = options.db;
    this.#ttlMs = options.ttlMs;
    this.#maxPerTenant = options.maxPerTenant;
    this.#now = options.now ?? Date.now;
  }

  /** Mints a ticket for `principal`; it expires after the TTL or with the token, if sooner. */
  async issue(principal: Principal): Promise<{ ticket: string; expiresAt: number }> {
    const ticket = randomBytes(32).toString('base64url');
    const now = this.#now();
    const expiresAt = Math.min(now + this.#ttlMs, principal.expiresAt * 1000);
    const stored: StoredPrincipal = {
      tenant: principal.tenant,
      subject: principal.subject,
      scopes: [...principal.scopes],
      expiresAt: principal.expiresAt,
    };
    await this.#db.transaction(async (tx) => {
      await lockTenant(this.#db, tx, 'streamTickets', principal.tenant);
      const [row] = await tx.query<{ n: number | string }>(
        'select count(*) as n from stream_tickets where tenant = $1 and expires_at > $2',
        [principal.tenant, now],
      );
      if (Number(row?.n ?? 0) >= this.#maxPerTenant)
        throw new TicketLimitError(
          `tenant "${principal.tenant}" has ${this.#maxPerTenant} unused stream tickets outstanding`,
        );
      await tx.execute(
        'insert into stream_tickets (hash, tenant, principal, expires_at) values ($1, $2, $3, $4)',
        [hash(ticket), principal.tenant, JSON.stringify(stored), expiresAt],
      );
    });
    return { ticket, expiresAt };
  }

  /** The principal the ticket stands for, once; undefined if unknown, used or expired. */
  async redeem(ticket: string): Promise<RedeemedTicket | undefined> {
    // Deleted whether expired or not (an expired ticket is gone either way); the engine
    // gives the row to exactly one of concurrent redemptions, on any node.
    const key = hash(ticket);
    const [row] = await this.#db.query<{
      tenant: string;
      principal: string;
      expires_at: number | string;
    }>('delete from stream_tickets where hash = $1 returning tenant, principal, expires_at', [key]);
    if (!row) return undefined;
    const expiresAt = Number(row.expires_at);
    if (expiresAt <= this.#now()) return undefined;
    const stored = JSON.parse(row.principal) as StoredPrincipal;
    return {
      principal: {
        tenant: stored.tenant,
        subject: stored.subject,
        scopes: new Set(stored.scopes),
        expiresAt: stored.expiresAt,
      },
      giveBack: () => this.#restore(key, row.tenant, row.principal, expiresAt),
    };
  }

  /**
   * The row as it was. Not counted against the tenant cap: the ticket was counted when it
   * was minted, so a tenant holds more than the cap only by the refusals in flight.
   */
  async #restore(key: string, tenant: string, principal: string, expiresAt: number) {
    if (expiresAt <= this.#now()) return;
    await this.#db.execute(
      'insert into stream_tickets (hash, tenant, principal, expires_at) values ($1, $2, $3, $4) on conflict (hash) do nothing',
      [key, tenant, principal, expiresAt],
    );
  }

  /** Drops expired tickets (a leader chore); resolves to how many. */
  sweep(): Promise<number> {
    return this.#db.execute('delete from stream_tickets where expires_at <= $1', [this.#now()]);
  }

  /** The number of stored tickets, expired ones included until swept (for tests). */
  async size(): Promise<number> {
    const [row] = await this.#db.query<{ n: number | string }>(
      'select count(*) as n from stream_tickets',
    );
    return Number(row?.n ?? 0);
  }
}

function hash(ticket: string): string {
  return createHash('sha256').update(ticket).digest('base64url');
}
