/**
 * Consumer groups on SQLite. A group row holds its spec and `cursor`: every event at or
 * below the cursor has been handed out (or did not match). A lease row is one in-flight
 * event: `leased` until its ack deadline (`due_at`), or `delayed` after a nack until
 * `due_at`; either way it is due for redelivery once `due_at` has passed. Ack and term
 * delete the row, so the table only ever holds what is in flight.
 */
import { randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { ConsumerGroupInfo, ConsumerGroupSpec, EnsureGroupLimits } from '../event-log.ts';
import { ConsumerGroupLimitError } from '../consumer-group-limit.ts';
import { ConsumerGroupNotFoundError } from '../consumer-group-not-found.ts';
import { eventFilter } from './event-filter.ts';
import { eventColumns, type EventRow } from './event-rows.ts';
import { rowsStatement, ROWS_PER_STATEMENT } from './rows-statement.ts';
import { createScanWindow, DEFAULT_SCAN_ROWS } from './scan-window.ts';
import type { StatementCache } from './statement-cache.ts';
import { writeTransaction, type Durability } from './transactions.ts';
import type { LeasedRow } from './writer-protocol.ts';

export type ConsumerGroups = {
  /** In one transaction with the count of the tenant's groups: no limit is overshot. */
  ensure(spec: ConsumerGroupSpec, limits?: EnsureGroupLimits): void;
  get(name: string): ConsumerGroupInfo | undefined;
  /** The group's spec alone: a key lookup, without `get`'s counts. */
  spec(name: string): ConsumerGroupSpec | undefined;
  /** Every group's name, in order (`get` each for its counts). */
  names(): string[];
  delete(name: string): boolean;
  /**
   * Leases up to `max` events at `now` (redeliveries first); never waits. Rows, not
   * parsed events: the caller (on the other side of a thread) parses the bodies. First
   * deliveries of events in `omitBodies` come with an empty body: the caller holds them.
   */
  lease(
    name: string,
    consumer: string,
    max: number,
    now: number,
    omitBodies?: PositionRange,
  ): LeasedRow[];
  /** When the group's earliest lease or delayed nack becomes due, if it has any. */
  nextDueAt(name: string): number | undefined;
  ack(name: string, token: string): boolean;
  nack(name: string, token: string, delayMs: number, now: number): boolean;
  term(name: string, token: string): boolean;
};

type GroupRow = {
  name: string;
  tenant: string | null;
  topic_pattern: string | null;
  ack_wait_ms: number;
  max_deliver: number;
  start_at: 'beginning' | 'end';
  cursor: number;
};

/** Inclusive. */
export type PositionRange = { from: number; to: number };

type LeaseRow = { delivery_count: number; token: string; state: 'leased' | 'delayed' };
type DueRow = Partial<EventRow> & { lease_position: number; delivery_count: number };

export function createConsumerGroups(
  db: DatabaseSync,
  options: {
    statements: StatementCache;
    setDurability: (level: Durability) => void;
    /** Rows of the group's tenant a lag count examines at most (scan-window.ts). */
    scanRows?: number;
  },
): ConsumerGroups {
  const { statements, setDurability } = options;
  const scanWindow = createScanWindow(statements, options.scanRows ?? DEFAULT_SCAN_ROWS);
  const upsertGroup = db.prepare(`
    INSERT INTO consumer_groups (name, tenant, topic_pattern, ack_wait_ms, max_deliver, start_at, cursor)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET tenant = excluded.tenant, topic_pattern = excluded.topic_pattern,
      ack_wait_ms = excluded.ack_wait_ms, max_deliver = excluded.max_deliver, start_at = excluded.start_at`);
  const selectGroup = db.prepare('SELECT * FROM consumer_groups WHERE name = ?');
  const selectNames = db.prepare('SELECT name FROM consumer_groups ORDER BY name');
  // No index on tenant: the table holds at most the limit per tenant, and creations are rare.
  const countTenantGroups = db.prepare(
    'SELECT count(*) AS n FROM consumer_groups WHERE tenant = ?',
  );
  const deleteGroup = db.prepare('DELETE FROM consumer_groups WHERE name = ?');
  const deleteGroupLeases = db.prepare('DELETE FROM leases WHERE group_name = ?');
  const lastPosition = db.prepare('SELECT last_position AS last FROM log_state WHERE id = 1');
  const countInflight = db.prepare('SELECT count(*) AS n FROM leases WHERE group_name = ?');
  const terminateExhausted = db.prepare(
    'DELETE FROM leases WHERE group_name = ? AND due_at <= ? AND delivery_count >= ?',
  );
  // `LIMIT +?`, not `LIMIT ?`: SQLite (3.50) plans with the value bound to a bare LIMIT
  // parameter, so every new binding re-prepares the statement (~8 µs a call, measured);
  // the unary plus hides the value from the planner. Same in the fresh-events query.
  const selectDue = db.prepare(`
    SELECT l.position AS lease_position, l.delivery_count AS delivery_count, ${eventColumns('e')}
    FROM leases l LEFT JOIN events e ON e.position = l.position
    WHERE l.group_name = ? AND l.due_at <= ? ORDER BY l.position LIMIT +?`);
  const releaseLease = db.prepare('DELETE FROM leases WHERE group_name = ? AND position = ?');
  const renewLease = db.prepare(`
    UPDATE leases SET consumer = ?, token = ?, due_at = ?, delivery_count = ?, state = 'leased'
    WHERE group_name = ? AND position = ?`);
  // First deliveries: one multi-row INSERT per chunk (rows-statement.ts), not one per event.
  const insertLeases = rowsStatement(
    db,
    'INSERT INTO leases (group_name, position, consumer, token, due_at, delivery_count, state) VALUES ',
    "(?, ?, ?, ?, ?, 1, 'leased')",
    '',
  );
  const moveCursor = db.prepare('UPDATE consumer_groups SET cursor = ? WHERE name = ?');
  const nextDue = db.prepare('SELECT min(due_at) AS due FROM leases WHERE group_name = ?');
  const selectLease = db.prepare(
    'SELECT delivery_count, token, state FROM leases WHERE group_name = ? AND position = ?',
  );
  const settleLease = db.prepare(
    "DELETE FROM leases WHERE group_name = ? AND position = ? AND token = ? AND state = 'leased'",
  );
  const delayLease = db.prepare(
    "UPDATE leases SET state = 'delayed', due_at = ? WHERE group_name = ? AND position = ?",
  );

  // Tokens: the position (to find the row) and a nonce unique to this delivery. The
  // per-open prefix keeps tokens from an earlier process or a deleted group stale.
  const tokenPrefix = randomBytes(6).toString('base64url');
  let tokenCounter = 0;
  const newToken = (position: number): string =>
    `${position}:${tokenPrefix}${(tokenCounter++).toString(36)}`;

  const groupRow = (name: string): GroupRow | undefined =>
    selectGroup.get(name) as GroupRow | undefined;

  const filterOf = (group: GroupRow) =>
    eventFilter(group.tenant ?? undefined, group.topic_pattern ?? undefined);

  const info = (group: GroupRow): ConsumerGroupInfo => {
    const filter = filterOf(group);
    // Counted within one scan window: an exact count scans the whole backlog on this
    // thread, for every group at every metrics scrape (200 groups 20,000 events behind
    // held the event loop ~2 s per scrape), and capping the matches instead of the rows
    // still scanned it all for a pattern that matches little (220 ms at 200k events).
    const { last } = lastPosition.get() as { last: number };
    const window = scanWindow(group.tenant ?? undefined, group.cursor, last);
    const pending = statements(
      `SELECT count(*) AS n FROM events WHERE position > ? AND position <= ? AND ${filter.sql}`,
    ).get(group.cursor, window.upper, ...filter.params) as { n: number };
    const inflight = countInflight.get(group.name) as { n: number };
    return {
      ...toSpec(group),
      pending: pending.n,
      pendingIsLowerBound: window.more,
      inflight: inflight.n,
    };
  };

  const settle = (name: string, token: string): boolean => {
    const position = tokenPosition(token);
    if (position === undefined) return false;
    setDurability('NORMAL');
    return settleLease.run(name, position, token).changes === 1;
  };

  return {
    ensure(spec, limits) {
      validateSpec(spec);
      setDurability('NORMAL');
      writeTransaction(db, () => {
        const max = limits?.maxGroupsPerTenant;
        if (max !== undefined && spec.tenant !== undefined && groupRow(spec.name) === undefined) {
          const { n } = countTenantGroups.get(spec.tenant) as { n: number };
          if (n >= max) throw new ConsumerGroupLimitError(spec.tenant, max);
        }
        const start = spec.startAt === 'end' ? (lastPosition.get() as { last: number }).last : 0;
        upsertGroup.run(
          spec.name,
          spec.tenant ?? null,
          spec.topicPattern ?? null,
          spec.ackWaitMs,
          spec.maxDeliver,
          spec.startAt,
          start,
        );
      });
    },

    get(name) {
      const group = groupRow(name);
      return group === undefined ? undefined : info(group);
    },

    spec(name) {
      const group = groupRow(name);
      return group === undefined ? undefined : toSpec(group);
    },

    names() {
      return (selectNames.all() as { name: string }[]).map((row) => row.name);
    },

    delete(name) {
      setDurability('NORMAL');
      return writeTransaction(db, () => {
        deleteGroupLeases.run(name);
        return deleteGroup.run(name).changes === 1;
      });
    },

    lease(name, consumer, max, now, omitBodies) {
      if (!Number.isSafeInteger(max) || max < 1)
        throw new RangeError(`max must be a positive integer, got ${max}`);
      setDurability('NORMAL');
      return writeTransaction(db, () => {
        const group = groupRow(name);
        if (group === undefined) throw new ConsumerGroupNotFoundError(name);
        const deadline = now + group.ack_wait_ms;
        const pulled: LeasedRow[] = [];

        if (group.max_deliver > 0) terminateExhausted.run(name, now, group.max_deliver);
        for (const row of selectDue.all(name, now, max) as DueRow[]) {
          if (row.body === undefined || row.body === null) {
            // Retention removed the event while it was in flight: nothing left to deliver.
            releaseLease.run(name, row.lease_position);
            continue;
          }
          const token = newToken(row.lease_position);
          const deliveryCount = row.delivery_count + 1;
          renewLease.run(consumer, token, deadline, deliveryCount, name, row.lease_position);
          pulled.push({ ...(row as EventRow), token, deliveryCount });
        }

        const room = max - pulled.length;
        if (room > 0) {
          const filter = filterOf(group);
          // Bodies the caller holds are not read, converted and sent back ('' is never a
          // stored body: each is a JSON object's text).
          const fresh = statements(
            `SELECT position, partition, tenant, topic, appended_at, CASE WHEN position BETWEEN ? AND ? THEN '' ELSE body END AS body FROM events WHERE position > ? AND ${filter.sql} ORDER BY position LIMIT +?`,
          ).all(
            omitBodies?.from ?? 0,
            omitBodies?.to ?? -1,
            group.cursor,
            ...filter.params,
            room,
          ) as EventRow[];
          for (let start = 0; start < fresh.length; start += ROWS_PER_STATEMENT) {
            const end = Math.min(start + ROWS_PER_STATEMENT, fresh.length);
            const values: (string | number)[] = [];
            for (let i = start; i < end; i++) {
              const row = fresh[i]!;
              const token = newToken(row.position);
              values.push(name, row.position, consumer, token, deadline);
              pulled.push({ ...row, token, deliveryCount: 1 });
            }
            insertLeases(end - start).run(...values);
          }
          // Fewer than asked means nothing else matches up to the end of the log: skip
          // past the non-matching tail so the next pull does not scan it again.
          const cursor =
            fresh.length === room
              ? fresh[fresh.length - 1]!.position
              : (lastPosition.get() as { last: number }).last;
          if (cursor !== group.cursor) moveCursor.run(cursor, name);
        }
        return pulled;
      });
    },

    nextDueAt(name) {
      const row = nextDue.get(name) as { due: number | null };
      return row.due ?? undefined;
    },

    ack: settle,
    term: settle,

    nack(name, token, delayMs, now) {
      if (!Number.isFinite(delayMs) || delayMs < 0)
        throw new RangeError(`delayMs must be >= 0, got ${delayMs}`);
      const position = tokenPosition(token);
      if (position === undefined) return false;
      setDurability('NORMAL');
      return writeTransaction(db, () => {
        const lease = selectLease.get(name, position) as LeaseRow | undefined;
        if (lease === undefined || lease.token !== token || lease.state !== 'leased') return false;
        const group = groupRow(name);
        if (
          group !== undefined &&
          group.max_deliver > 0 &&
          lease.delivery_count >= group.max_deliver
        )
          releaseLease.run(name, position); // the last allowed delivery was nacked: terminate
        else delayLease.run(now + delayMs, name, position);
        return true;
      });
    },
  };
}

function tokenPosition(token: string): number | undefined {
  const colon = token.indexOf(':');
  if (colon <= 0) return undefined;
  const position = Number(token.slice(0, colon));
  return Number.isSafeInteger(position) && position > 0 ? position : undefined;
}

function toSpec(row: GroupRow): ConsumerGroupSpec {
  return {
    name: row.name,
    ...(row.tenant === null ? {} : { tenant: row.tenant }),
    ...(row.topic_pattern === null ? {} : { topicPattern: row.topic_pattern }),
    ackWaitMs: row.ack_wait_ms,
    maxDeliver: row.max_deliver,
    startAt: row.start_at,
  };
}

function validateSpec(spec: ConsumerGroupSpec): void {
  if (typeof spec.name !== 'string' || spec.name.length === 0)
    throw new TypeError('group name must be a non-empty string');
  // node:sqlite reads TEXT back only up to a NUL: names and tenants must survive the round trip.
  if (spec.name.includes('\u0000') || spec.tenant?.includes('\u0000'))
    throw new TypeError('group name and tenant must not contain NUL characters');
  if (!Number.isSafeInteger(spec.ackWaitMs) || spec.ackWaitMs <= 0)
    throw new RangeError(`ackWaitMs must be a positive integer, got ${spec.ackWaitMs}`);
  if (!Number.isSafeInteger(spec.maxDeliver) || spec.maxDeliver < 0)
    throw new RangeError(`maxDeliver must be a non-negative integer, got ${spec.maxDeliver}`);
  if (spec.startAt !== 'beginning' && spec.startAt !== 'end')
    throw new TypeError(`startAt must be "beginning" or "end", got ${String(spec.startAt)}`);
  eventFilter(spec.tenant, spec.topicPattern); // throws on an invalid pattern
}
