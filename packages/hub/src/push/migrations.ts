/**
 * Push's table: outstanding stream tickets, shared by every hub node through the state
 * store so a ticket minted on one node can be redeemed on any other. Only the ticket's
 * SHA-256 is stored; `principal` is the JSON of the principal it stands for.
 */
import type { Migration } from '../store/sql-database.ts';

const CREATE = `
create table stream_tickets (
  hash text primary key,
  tenant text not null,
  principal text not null,
  expires_at bigint not null
);
create index stream_tickets_tenant on stream_tickets (tenant, expires_at);
create index stream_tickets_expires on stream_tickets (expires_at);
`;

export const PUSH_MIGRATIONS: Migration[] = [
  { id: 'push/001-stream-tickets', sqlite: CREATE, postgres: CREATE },
];
