/**
 * When a stream ticket is spent: on a stream that opens, not on one the gateway refuses.
 * The HTTP tests (sse.test.ts, ws.test.ts) show a 429 giving the ticket back end to end;
 * here the other refusals, such as a draining node's 503, which a client retries elsewhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Authenticator, Principal } from '../auth/principal.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { PUSH_MIGRATIONS } from './migrations.ts';
import { PushError } from './push-error.ts';
import { admitStream } from './stream-auth.ts';
import { TicketStore } from './ticket-store.ts';

const reader: Principal = {
  tenant: 'acme',
  subject: 'u1',
  scopes: new Set(['events:read']),
  expiresAt: Math.floor(Date.now() / 1000) + 600,
};
const noBearer: Authenticator = {
  authenticate: () => Promise.reject(new Error('only tickets here')),
};

let dir: string;
let db: SqlDatabase;
let deps: { authenticator: Authenticator; tickets: TicketStore };
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-stream-auth-'));
  db = openSqliteDatabase(join(dir, 'state.db'));
  await db.migrate(PUSH_MIGRATIONS);
  deps = {
    authenticator: noBearer,
    tickets: new TicketStore({ db, ttlMs: 30_000, maxPerTenant: 10 }),
  };
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const withTicket = (ticket: string) => ({ authorization: undefined, ticket });

describe('admitStream with a ticket', () => {
  it('gives the ticket back when the stream is refused (503 draining), and spends it when one opens', async () => {
    const { ticket } = await deps.tickets.issue(reader);
    const opened: Principal[] = [];
    const draining = admitStream(withTicket(ticket), deps, {
      check: () => {
        throw new PushError('unavailable', 'the hub is shutting down; reconnect shortly');
      },
      open: (principal) => opened.push(principal),
    });
    await expect(draining).rejects.toMatchObject({ code: 'unavailable' });
    expect(opened).toEqual([]);

    // Another node (the same store) takes the retry.
    await admitStream(withTicket(ticket), deps, {
      check: () => {},
      open: (principal) => opened.push(principal),
    });
    expect(opened).toEqual([reader]);
    await expect(
      admitStream(withTicket(ticket), deps, { check: () => {}, open: () => {} }),
    ).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('keeps a ticket spent when opening the stream itself failed (it may be half open)', async () => {
    const { ticket } = await deps.tickets.issue(reader);
    await expect(
      admitStream(withTicket(ticket), deps, {
        check: () => {},
        open: () => {
          throw new PushError('limit', 'too late');
        },
      }),
    ).rejects.toThrow('too late');
    expect(await deps.tickets.size()).toBe(0);
  });
});
