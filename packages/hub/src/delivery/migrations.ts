/**
 * The delivery engine's table. One row per (event, rule, target): its state machine is
 * pending → delivered, or pending → dead (the DLQ) → pending again on replay.
 *
 * - The unique (event_key, rule_id, target_index) makes routing idempotent: a redelivered
 *   event inserts nothing new.
 * - `due_at` doubles as the lease: claiming a row sets `lease_token` and moves `due_at` to
 *   the lease's expiry, so a row held by a node that died becomes due again by itself.
 * - The event is copied into the row, so a DLQ entry outlives the event log's retention.
 * The SQL is the same on both engines (bigint/integer/text only).
 */
import type { Migration } from '../store/sql-database.ts';
import { ATTEMPT_LOG_TABLE } from './attempt-log.ts';

const CREATE = `
create table deliveries (
  id text primary key,
  event_key text not null,
  rule_id text not null,
  target_index integer not null,
  owner text not null,
  tenant text not null,
  rule_name text not null,
  target_kind text not null,
  target_ref text not null,
  target_key text not null,
  target text not null,
  ordered integer not null,
  partition_key text not null,
  event_position bigint not null,
  event_id text not null,
  event text not null,
  status text not null,
  due_at bigint not null,
  lease_token text,
  attempts integer not null default 0,
  created_at bigint not null,
  started_at bigint not null,
  last_attempt_at bigint,
  last_error text,
  reason text,
  delivered_at bigint,
  dead_at bigint,
  replays integer not null default 0
);
create unique index deliveries_identity on deliveries (event_key, rule_id, target_index);
create index deliveries_due on deliveries (target_key, status, due_at);
create index deliveries_key_order on deliveries (target_key, partition_key, status, event_position);
create index deliveries_pending on deliveries (status, due_at);
create index deliveries_dead on deliveries (owner, status, dead_at);
create index deliveries_done on deliveries (status, delivered_at);
`;

/**
 * The claim's full order (due_at, event_position, id) in the index, so a claim reads its
 * first rows in order instead of sorting every due row of the target (a routed batch
 * shares one due_at, so that sort took the whole backlog on each claim).
 */
const CLAIM_ORDER = `
create index deliveries_claim on deliveries (target_key, status, due_at, event_position, id);
drop index deliveries_due;
`;

/**
 * Partial indexes: each state's index holds only the rows in that state. A pending row is
 * in the claim, key-order and pending-targets indexes; settling it takes it out of them and
 * puts it in `deliveries_done` (or `deliveries_dead`), instead of rewriting an entry in
 * every index. Queries name the state as a literal (`status = 'pending'`), which is what
 * lets both SQLite and PostgreSQL use a partial index. `deliveries_target_event` serves
 * the per-event lookups (attempts, resend), which used the claim index's target prefix.
 */
const PARTIAL_INDEXES = `
drop index deliveries_claim;
drop index deliveries_key_order;
drop index deliveries_pending;
drop index deliveries_dead;
drop index deliveries_done;
create index deliveries_claim on deliveries (target_key, due_at, event_position, id) where status = 'pending';
create index deliveries_key_order on deliveries (target_key, partition_key, event_position, id) where status = 'pending';
create index deliveries_pending on deliveries (target_key, target_kind, due_at) where status = 'pending';
create index deliveries_dead on deliveries (owner, dead_at) where status = 'dead';
create index deliveries_done on deliveries (delivered_at) where status = 'delivered';
create index deliveries_target_event on deliveries (target_key, event_id);
`;

/** pendingTargets reads the claim index (the kind is part of the target key). */
const NO_PENDING_INDEX = `drop index deliveries_pending;`;

/**
 * The key-order index holds ordered rows only: it serves the ordered head check alone, and
 * most targets are not ordered, so most rows no longer add (at insert) and remove (at
 * settle) an entry in it. The head check names `ordered = 1` to use it: an ordered row
 * waits for the older pending ordered rows of its key (not for unordered rows another rule
 * sends to the same destination).
 */
const ORDERED_KEY_ORDER = `
drop index deliveries_key_order;
create index deliveries_key_order on deliveries (target_key, partition_key, event_position, id) where status = 'pending' and ordered = 1;
`;

/**
 * A target's attempt log is listed in (started_at, delivery_id, replay, attempt) order, the
 * time with the primary key as its tiebreaker (attempt-log.ts `pageForTarget`). With the
 * whole order in the index, a page reads its rows in order (backwards) instead of sorting
 * every attempt of its millisecond(s); the old (target_key, started_at) index is a prefix
 * of it.
 */
const ATTEMPTS_TARGET_ORDER = `
create index delivery_attempts_target_order on delivery_attempts (target_key, started_at, delivery_id, replay, attempt);
drop index delivery_attempts_target;
`;

export const DELIVERY_MIGRATIONS: Migration[] = [
  { id: 'delivery/001-deliveries', sqlite: CREATE, postgres: CREATE },
  { id: 'delivery/002-attempts', sqlite: ATTEMPT_LOG_TABLE, postgres: ATTEMPT_LOG_TABLE },
  { id: 'delivery/003-claim-order', sqlite: CLAIM_ORDER, postgres: CLAIM_ORDER },
  { id: 'delivery/004-partial-indexes', sqlite: PARTIAL_INDEXES, postgres: PARTIAL_INDEXES },
  { id: 'delivery/005-no-pending-index', sqlite: NO_PENDING_INDEX, postgres: NO_PENDING_INDEX },
  { id: 'delivery/006-ordered-key-order', sqlite: ORDERED_KEY_ORDER, postgres: ORDERED_KEY_ORDER },
  {
    id: 'delivery/007-attempts-target-order',
    sqlite: ATTEMPTS_TARGET_ORDER,
    postgres: ATTEMPTS_TARGET_ORDER,
  },
];
