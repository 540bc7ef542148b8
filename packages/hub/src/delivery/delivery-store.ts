/**
 * The deliveries table behind the engine: routing inserts, the dispatcher claims and
 * settles, the DLQ API lists and replays. All SQL of the engine lives here.
 *
 * Claiming is safe with several hub nodes on one PostgreSQL: a claim is a single UPDATE of
 * rows that are pending and due, setting a fresh lease token and moving `due_at` to the
 * lease's expiry; on PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so two nodes
 * never wait for or take the same row. Settling names the lease token, so the late answer
 * of an attempt whose lease expired (and was claimed again) changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { CloudEventRecord } from '../backbone/event-log.ts';
import type { BatchStatement, SqlDatabase } from '../store/sql-database.ts';
import { clipText, insertAttempt, type AttemptRecord } from './attempt-log.ts';
import { newDeliveryId } from './delivery-id.ts';
import { parseTargetKey, targetKey } from './target-key.ts';
import { TransactionBatcher } from './transaction-batcher.ts';
import { decodePageCursor, encodePageCursor, isCursorId, isTime } from './page-cursor.ts';

export type NewDelivery = {
  /** The event's dedupe identity (hashed tenant + source + id). */
  eventKey: string;
  ruleId: string;
  ruleName: string;
  targetIndex: number;
  owner: string;
  tenant: string;
  kind: string;
  ref: string;
  target: Record<string, unknown>;
  ordered: boolean;
  partitionKey: string;
  eventPosition: number;
  event: CloudEventRecord;
  /** Inserted already leased to this node (routed work it starts at once; see Dispatcher.leaseRouted). */
  lease?: DeliveryLease;
};

export type DeliveryLease = { token: string; until: number };

/** What an insert did: how many rows are new, and those of them inserted leased. */
export type InsertedDeliveries = { inserted: number; leased: ClaimedDelivery[] };

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export type DeliveryRecord = {
  id: string;
  ruleId: string;
  ruleName: string;
  targetIndex: number;
  owner: string;
  tenant: string;
  kind: string;
  ref: string;
  targetKey: string;
  target: Record<string, unknown>;
  ordered: boolean;
  partitionKey: string;
  eventPosition: number;
  event: CloudEventRecord;
  status: DeliveryStatus;
  dueAt: number;
  attempts: number;
  createdAt: number;
  startedAt: number;
  lastAttemptAt: number | null;
  lastError: string | null;
  reason: string | null;
  deliveredAt: number | null;
  deadAt: number | null;
  replays: number;
};

export type ClaimedDelivery = DeliveryRecord & {
  leaseToken: string;
  /** The event exactly as stored (JSON text): a target sending it as it is need not serialise it again. */
  eventJson: string;
};

/** Selects DLQ entries of one owner. Every given field must hold. */
export type DeadFilter = {
  owner: string;
  id?: string;
  ruleId?: string;
  targetIndex?: number;
  kind?: string;
  ref?: string;
  /** dead_at ≥ since (epoch ms) */
  since?: number;
  /** dead_at < until (epoch ms) */
  until?: number;
};

export { targetKey } from './target-key.ts';

type Row = Record<string, unknown>;

const COLUMNS = [
  'id',
  'event_key',
  'rule_id',
  'target_index',
  'owner',
  'tenant',
  'rule_name',
  'target_kind',
  'target_ref',
  'target_key',
  'target',
  'ordered',
  'partition_key',
  'event_position',
  'event_id',
  'event',
  'status',
  'due_at',
  'lease_token',
  'attempts',
  'created_at',
  'started_at',
] as const;

/** Rows per INSERT statement (stays far below both engines' parameter limits). */
const INSERT_CHUNK = 50;

/**
 * Ordered targets: a row is eligible only when no older pending ordered row shares its key
 * (`e.ordered = 1` and `e.status = 'pending'` select the partial key-order index).
 */
const HEAD_OF_KEY = `(d.ordered = 0 or not exists (
  select 1 from deliveries e
  where e.target_key = d.target_key and e.partition_key = d.partition_key and e.status = 'pending'
    and e.ordered = 1
    and (e.event_position < d.event_position or (e.event_position = d.event_position and e.id < d.id))))`;

export class DeliveryStore {
  readonly #db: SqlDatabase;
  /** Claims, settles and releases share transactions (group commit): see transaction-batcher.ts. */
  readonly #batch: TransactionBatcher;
  /** The INSERT text per row count (the same few shapes over and over). */
  readonly #insertSql = new Map<number, string>();
  /** A rule's target object is shared by all its deliveries: serialised once. */
  readonly #targetJson = new WeakMap<object, string>();

  constructor(db: SqlDatabase) {
    this.#db = db;
    this.#batch = new TransactionBatcher(db);
  }

  /**
   * Inserts the deliveries of one routed batch in one transaction (shared with the claims
   * and settles of the moment: one commit fewer per routed batch); rows that already exist
   * (the same event routed again) are skipped. Rows with a `lease` are inserted leased and
   * come back as claimed, built from memory: no claim, no read back.
   */
  async insertBatch(rows: readonly NewDelivery[], now: number): Promise<InsertedDeliveries> {
    if (rows.length === 0) return { inserted: 0, leased: [] };
    const ids = rows.map(() => newDeliveryId(now));
    const eventJson = new Map<CloudEventRecord, string>();
    // First in its batch (settles are `0<id>`, claims `1<key>`): claims see the new rows.
    return this.#batch.run({
      order: '0',
      statements: this.#insert(rows, ids, eventJson, now),
      result: (results) => {
        const inserted = new Set<string>();
        for (const chunk of results)
          for (const r of chunk as Row[]) inserted.add(r['id'] as string);
        const leased: ClaimedDelivery[] = [];
        rows.forEach((r, i) => {
          if (r.lease && inserted.has(ids[i]!))
            leased.push(leasedRecord(r, ids[i]!, eventJson.get(r.event)!, r.lease, now));
        });
        return { inserted: inserted.size, leased };
      },
    });
  }

  #insert(
    rows: readonly NewDelivery[],
    ids: readonly string[],
    eventJson: Map<CloudEventRecord, string>,
    now: number,
  ): BatchStatement[] {
    const statements: BatchStatement[] = [];
    // An event routed to several targets is serialised once.
    const json = (event: CloudEventRecord) => {
      let text = eventJson.get(event);
      if (text === undefined) eventJson.set(event, (text = JSON.stringify(event)));
      return text;
    };
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      const params: unknown[] = [];
      chunk.forEach((r, j) =>
        params.push(
          ids[i + j],
          r.eventKey,
          r.ruleId,
          r.targetIndex,
          r.owner,
          r.tenant,
          r.ruleName,
          r.kind,
          r.ref,
          targetKey(r.owner, r.kind, r.ref),
          this.#targetText(r.target),
          r.ordered ? 1 : 0,
          r.partitionKey,
          r.eventPosition,
          r.event.id,
          json(r.event),
          'pending',
          r.lease?.until ?? now,
          r.lease?.token ?? null,
          0,
          now,
          now,
        ),
      );
      statements.push({ sql: this.#insertText(chunk.length), params, rows: true });
    }
    return statements;
  }

  #insertText(rows: number): string {
    let sql = this.#insertSql.get(rows);
    if (sql === undefined) {
      const tuples = Array.from(
        { length: rows },
        (_, i) => `(${COLUMNS.map((_, j) => `$${i * COLUMNS.length + j + 1}`).join(', ')})`,
      );
      sql = `insert into deliveries (${COLUMNS.join(', ')}) values ${tuples.join(', ')}
         on conflict (event_key, rule_id, target_index) do nothing returning id`;
      this.#insertSql.set(rows, sql);
    }
    return sql;
  }

  #targetText(target: Record<string, unknown>): string {
    let text = this.#targetJson.get(target);
    if (text === undefined) this.#targetJson.set(target, (text = JSON.stringify(target)));
    return text;
  }

  /**
   * Leases up to `max` due deliveries of one target, oldest due first (for ordered
   * targets only the head of each partition key), until `now + leaseMs`.
   */
  async claim(key: string, max: number, now: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    // Opaque; randomUUID draws from Node's pooled entropy (randomBytes per claim showed up).
    const token = randomUUID();
    const pick = `select d.id from deliveries d
         where d.target_key = $3 and d.status = 'pending' and d.due_at <= $4 and ${HEAD_OF_KEY}
         order by d.due_at, d.event_position, d.id
         limit $5`;
    // PostgreSQL: pick in a materialised CTE with SKIP LOCKED. (As an `IN (subquery)` the
    // planner may run the subquery more than once, and with SKIP LOCKED each run skips the
    // rows the previous one locked, so more than `max` rows would be taken.) SQLite has
    // one writer at a time, so the plain form is already atomic there.
    const sql =
      this.#db.dialect === 'postgres'
        ? `with picked as materialized (${pick} for update of d skip locked)
           update deliveries set lease_token = $1, due_at = $2
           from picked where deliveries.id = picked.id
           returning deliveries.*`
        : `update deliveries set lease_token = $1, due_at = $2
           where id in (${pick})
           returning *`;
    return this.#batch.run({
      // After the batch's settles, so a claim sees the rows they just freed (ordered heads).
      order: `1${key}`,
      statements: [{ sql, params: [token, now + leaseMs, key, now, max], rows: true }],
      result: ([rows]) =>
        (rows as Row[]).map((r) => ({
          ...toRecord(r),
          leaseToken: token,
          eventJson: r['event'] as string,
        })),
    });
  }

  /** When the target's earliest eligible delivery (or expiring lease) is due, if any. */
  async nextDueAt(key: string): Promise<number | undefined> {
    const [row] = await this.#db.query<{ due: number | null }>(
      `select min(d.due_at) as due from deliveries d
       where d.target_key = $1 and d.status = 'pending' and ${HEAD_OF_KEY}`,
      [key],
    );
    return row?.due ?? undefined;
  }

  /** Every target with pending deliveries and the earliest due time (finds work other nodes routed). */
  async pendingTargets(): Promise<{ targetKey: string; kind: string; dueAt: number }[]> {
    // Read from the claim index alone (the kind is part of the key): no index of its own
    // to keep up on every insert, claim and settle.
    const rows = await this.#db.query<{ target_key: string; due: number }>(
      `select target_key, min(due_at) as due from deliveries
       where status = 'pending' group by target_key`,
    );
    return rows.map((r) => ({
      targetKey: r.target_key,
      kind: parseTargetKey(r.target_key).kind,
      dueAt: Number(r.due),
    }));
  }

  async settleDelivered(
    id: string,
    token: string,
    now: number,
    attempt?: AttemptRecord,
  ): Promise<boolean> {
    return this.#settle(
      `update deliveries set status = 'delivered', attempts = attempts + 1, lease_token = null,
         delivered_at = $3, last_attempt_at = $3, last_error = null
       where id = $1 and lease_token = $2`,
      [id, token, now],
      attempt,
    );
  }

  async settleRetry(
    id: string,
    token: string,
    now: number,
    dueAt: number,
    error: string,
    attempt?: AttemptRecord,
  ): Promise<boolean> {
    return this.#settle(
      `update deliveries set attempts = attempts + 1, lease_token = null, due_at = $4,
         last_attempt_at = $3, last_error = $5
       where id = $1 and lease_token = $2`,
      [id, token, now, dueAt, clip(error)],
      attempt,
    );
  }

  async settleDead(
    id: string,
    token: string,
    now: number,
    error: string,
    reason: string,
    attempt?: AttemptRecord,
    /** False when no attempt was made (a deferred delivery that ran out of time). */
    attempted = true,
  ): Promise<boolean> {
    return this.#settle(
      `update deliveries set status = 'dead', attempts = attempts + $6, lease_token = null,
         dead_at = $3, last_attempt_at = ${attempted ? '$3' : 'last_attempt_at'},
         last_error = $4, reason = $5
       where id = $1 and lease_token = $2`,
      [id, token, now, clip(error), reason, attempted ? 1 : 0],
      attempt,
    );
  }

  /**
   * One settle; with its attempt record in the same transaction, written only if the lease
   * held. The transaction is shared with the other claims and settles of the same moment.
   */
  async #settle(sql: string, params: unknown[], attempt?: AttemptRecord): Promise<boolean> {
    return this.#batch.run({
      order: `0${params[0] as string}`,
      // The attempt record only if the lease held (the update changed the row).
      statements: [
        { sql, params },
        ...(attempt ? [{ ...insertAttempt(attempt), ifChanged: true }] : []),
      ],
      result: ([updated]) => (updated as number) > 0,
    });
  }

  /** Gives a leased delivery back untouched (the attempt was interrupted by shutdown). */
  async release(id: string, token: string, now: number): Promise<void> {
    await this.#batch.run({
      order: `0${id}`,
      statements: [
        {
          sql: 'update deliveries set lease_token = null, due_at = $3 where id = $1 and lease_token = $2',
          params: [id, token, now],
        },
      ],
      result: () => undefined,
    });
  }

  async getById(id: string): Promise<DeliveryRecord | undefined> {
    const [row] = await this.#db.query('select * from deliveries where id = $1', [id]);
    return row ? toRecord(row) : undefined;
  }

  /** DLQ entries, newest first; `after` is the cursor of the previous page's last entry. */
  async listDead(
    filter: DeadFilter,
    page: { limit: number; after?: string },
  ): Promise<{ entries: DeliveryRecord[]; next?: string }> {
    const { where, params } = deadWhere(filter);
    const cursor = page.after ? decodeCursor(page.after) : undefined;
    let sql = `select * from deliveries where ${where}`;
    if (cursor) {
      params.push(cursor.deadAt, cursor.id);
      sql += ` and (dead_at < $${params.length - 1} or (dead_at = $${params.length - 1} and id > $${params.length}))`;
    }
    params.push(page.limit + 1);
    sql += ` order by dead_at desc, id limit $${params.length}`;
    const rows = (await this.#db.query(sql, params)).map(toRecord);
    const entries = rows.slice(0, page.limit);
    const last = entries[entries.length - 1];
    return rows.length > page.limit && last
      ? { entries, next: encodeCursor(last.deadAt ?? 0, last.id) }
      : { entries };
  }

  /**
   * Puts the selected DLQ entries back to pending with a fresh attempt budget, the oldest
   * first and at most `limit` of them (one call never rewrites a whole DLQ in one
   * statement): `more` says the limit was reached, so the caller asks again. Returns how
   * many and the targets concerned (so the dispatcher can look at them now).
   */
  async replay(
    filter: DeadFilter,
    now: number,
    limit = REPLAY_LIMIT,
  ): Promise<{ replayed: number; targetKeys: string[]; more: boolean }> {
    const { where, params } = deadWhere(filter);
    params.push(now, limit);
    const at = `$${params.length - 1}`;
    const rows = await this.#db.query<{ target_key: string }>(
      `update deliveries set status = 'pending', due_at = ${at}, started_at = ${at},
         attempts = 0, dead_at = null, reason = null, lease_token = null, replays = replays + 1
       where id in (select id from deliveries where ${where}
                    order by dead_at, id limit $${params.length})
       returning target_key`,
      params,
    );
    return {
      replayed: rows.length,
      targetKeys: [...new Set(rows.map((r) => r.target_key))],
      more: rows.length === limit,
    };
  }

  /**
   * Sends the pending deliveries of targets that are gone (a deleted webhook endpoint) to
   * the DLQ now, except those an attempt holds (they end at their attempt): waiting for
   * each to come due (hours, on a retry schedule) only to fail then kept them counting as
   * lag. `targetKeys`: the target under each owner whose rules may route to it.
   */
  async deadLetterPending(
    targetKeys: readonly string[],
    reason: string,
    error: string,
    now: number,
  ): Promise<number> {
    if (targetKeys.length === 0) return 0;
    const keys = targetKeys.map((_, i) => `$${i + 4}`).join(', ');
    return this.#db.execute(
      `update deliveries set status = 'dead', dead_at = $1, reason = $2, last_error = $3,
         lease_token = null
       where status = 'pending' and target_key in (${keys})
         and (lease_token is null or due_at <= $1)`,
      [now, reason, clip(error), ...targetKeys],
    );
  }

  /** DLQ depth per target, for the gauge. */
  async deadCounts(): Promise<{ owner: string; kind: string; ref: string; count: number }[]> {
    const rows = await this.#db.query<{
      owner: string;
      target_kind: string;
      target_ref: string;
      n: number;
    }>(
      `select owner, target_kind, target_ref, count(*) as n from deliveries
       where status = 'dead' group by owner, target_kind, target_ref`,
    );
    return rows.map((r) => ({
      owner: r.owner,
      kind: r.target_kind,
      ref: r.target_ref,
      count: Number(r.n),
    }));
  }

  /**
   * Deletes delivered rows older than `deliveredBefore` and DLQ entries older than
   * `deadBefore`, with their attempt records, at most `limit` of each per call (so one
   * call never holds the store long).
   */
  async purge(deliveredBefore: number, deadBefore: number, limit = 1000): Promise<number> {
    return this.#db.transaction(async (tx) => {
      const ids = [
        ...(await tx.query<{ id: string }>(
          `select id from deliveries where status = 'delivered' and delivered_at < $1 limit $2`,
          [deliveredBefore, limit],
        )),
        ...(await tx.query<{ id: string }>(
          `select id from deliveries where status = 'dead' and dead_at < $1 limit $2`,
          [deadBefore, limit],
        )),
      ].map((r) => r.id);
      let removed = 0;
      for (let i = 0; i < ids.length; i += PURGE_CHUNK) {
        const chunk = ids.slice(i, i + PURGE_CHUNK);
        const list = chunk.map((_, j) => `$${j + 1}`).join(', ');
        await tx.execute(`delete from delivery_attempts where delivery_id in (${list})`, chunk);
        removed += await tx.execute(`delete from deliveries where id in (${list})`, chunk);
      }
      return removed;
    });
  }
}

/** Ids per DELETE statement when purging. */
const PURGE_CHUNK = 500;

/** DLQ entries one replay (or recover) call puts back at most. */
export const REPLAY_LIMIT = 10_000;

function deadWhere(filter: DeadFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [filter.owner];
  const clauses = ['owner = $1', "status = 'dead'"];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.id !== undefined) add('id = ?', filter.id);
  if (filter.ruleId !== undefined) add('rule_id = ?', filter.ruleId);
  if (filter.targetIndex !== undefined) add('target_index = ?', filter.targetIndex);
  if (filter.kind !== undefined) add('target_kind = ?', filter.kind);
  if (filter.ref !== undefined) add('target_ref = ?', filter.ref);
  if (filter.since !== undefined) add('dead_at >= ?', filter.since);
  if (filter.until !== undefined) add('dead_at < ?', filter.until);
  return { where: clauses.join(' and '), params };
}

function encodeCursor(deadAt: number, id: string): string {
  return encodePageCursor([deadAt, id]);
}

/** Undefined for anything that is not a cursor this store made (page-cursor.ts). */
export function decodeCursor(cursor: string): { deadAt: number; id: string } | undefined {
  const values = decodePageCursor(cursor, 2);
  if (!values) return undefined;
  const [deadAt, id] = values;
  return isTime(deadAt) && isCursorId(id) ? { deadAt, id } : undefined;
}

/** Errors are kept for people to read, not as an unbounded blob, and without U+0000 (clipText). */
function clip(error: string): string {
  return clipText(error, 2000);
}

/** A row just inserted leased, as a claim of it would have read it back. */
function leasedRecord(
  r: NewDelivery,
  id: string,
  eventJson: string,
  lease: DeliveryLease,
  now: number,
): ClaimedDelivery {
  return {
    id,
    ruleId: r.ruleId,
    ruleName: r.ruleName,
    targetIndex: r.targetIndex,
    owner: r.owner,
    tenant: r.tenant,
    kind: r.kind,
    ref: r.ref,
    targetKey: targetKey(r.owner, r.kind, r.ref),
    target: r.target,
    ordered: r.ordered,
    partitionKey: r.partitionKey,
    eventPosition: r.eventPosition,
    event: r.event,
    status: 'pending',
    dueAt: lease.until,
    attempts: 0,
    createdAt: now,
    startedAt: now,
    lastAttemptAt: null,
    lastError: null,
    reason: null,
    deliveredAt: null,
    deadAt: null,
    replays: 0,
    leaseToken: lease.token,
    eventJson,
  };
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toRecord(r: Row): DeliveryRecord {
  return {
    id: r['id'] as string,
    ruleId: r['rule_id'] as string,
    ruleName: r['rule_name'] as string,
    targetIndex: Number(r['target_index']),
    owner: r['owner'] as string,
    tenant: r['tenant'] as string,
    kind: r['target_kind'] as string,
    ref: r['target_ref'] as string,
    targetKey: r['target_key'] as string,
    target: JSON.parse(r['target'] as string) as Record<string, unknown>,
    ordered: Number(r['ordered']) === 1,
    partitionKey: r['partition_key'] as string,
    eventPosition: Number(r['event_position']),
    event: JSON.parse(r['event'] as string) as CloudEventRecord,
    status: r['status'] as DeliveryStatus,
    dueAt: Number(r['due_at']),
    attempts: Number(r['attempts']),
    createdAt: Number(r['created_at']),
    startedAt: Number(r['started_at']),
    lastAttemptAt: num(r['last_attempt_at']),
    lastError: (r['last_error'] as string | null) ?? null,
    reason: (r['reason'] as string | null) ?? null,
    deliveredAt: num(r['delivered_at']),
    deadAt: num(r['dead_at']),
    replays: Number(r['replays']),
  };
}
