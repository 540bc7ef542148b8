/**
 * The attempt log: one record per attempt of every delivery, whatever the target kind.
 * The engine fills when, how long, the outcome, the error and what it decided next; a
 * target adds what only it knows (`AttemptDetail`: a status code, the start of the
 * receiver's answer). A record is written in the same transaction as the settle of its
 * attempt (delivery-store.ts), so the log and the delivery's state never disagree, and an
 * attempt whose lease was lost (its late answer changes nothing) leaves no record.
 */
import type { BatchStatement, SqlExecutor } from '../store/sql-database.ts';
import { targetKey } from './target-key.ts';
import { decodePageCursor, encodePageCursor, isCursorId, isInt32, isTime } from './page-cursor.ts';

/** How one attempt ended, as the engine saw it. */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'timeout';

export type AttemptRecord = {
  deliveryId: string;
  /** 1 on the first attempt after routing or after each replay. */
  attempt: number;
  /** How many replays came before this attempt (0: the delivery as first routed). */
  replay: number;
  owner: string;
  /** The target (owner + kind + destination), so a target's recent attempts can be listed. */
  targetKey: string;
  startedAt: number;
  /** From handing the delivery to the target to its answer (or the timeout). */
  durationMs: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  error: string | null;
  /** The start of the receiver's answer, at most RESPONSE_EXCERPT_CHARS characters. */
  response: string | null;
  retryAfterMs: number | null;
  /** Set when the engine scheduled another attempt. */
  nextAttemptAt: number | null;
  /** Set when this attempt sent the delivery to the DLQ: max-attempts, max-age or the target's reason. */
  deadReason: string | null;
};

export const RESPONSE_EXCERPT_CHARS = 1024;
const ERROR_CHARS = 2000;

export const ATTEMPT_LOG_TABLE = `
create table delivery_attempts (
  delivery_id text not null,
  replay integer not null,
  attempt integer not null,
  owner text not null,
  target_key text not null,
  started_at bigint not null,
  duration_ms bigint not null,
  outcome text not null,
  status_code integer,
  error text,
  response text,
  retry_after_ms bigint,
  next_attempt_at bigint,
  dead_reason text,
  primary key (delivery_id, replay, attempt)
);
create index delivery_attempts_target on delivery_attempts (target_key, started_at);
`;

/**
 * The statement that writes one record (in the settle's transaction). A record already
 * there is kept.
 */
export function insertAttempt(r: AttemptRecord): BatchStatement {
  return {
    sql: `insert into delivery_attempts (delivery_id, replay, attempt, owner, target_key, started_at,
       duration_ms, outcome, status_code, error, response, retry_after_ms, next_attempt_at, dead_reason)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     on conflict (delivery_id, replay, attempt) do nothing`,
    params: [
      r.deliveryId,
      r.replay,
      r.attempt,
      r.owner,
      r.targetKey,
      r.startedAt,
      Math.max(0, Math.round(r.durationMs)),
      r.outcome,
      r.statusCode,
      r.error === null ? null : clipText(r.error, ERROR_CHARS),
      r.response === null ? null : clipText(r.response, RESPONSE_EXCERPT_CHARS),
      r.retryAfterMs === null ? null : Math.round(r.retryAfterMs),
      r.nextAttemptAt,
      r.deadReason,
    ],
  };
}

/** Reads the attempt log. Handed to other capabilities (e.g. webhooks) through `Routing.attempts`. */
export class AttemptLog {
  readonly #db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  /** Every recorded attempt of one delivery, oldest first. */
  async forDelivery(deliveryId: string): Promise<AttemptRecord[]> {
    const rows = await this.#db.query(
      `select * from delivery_attempts where delivery_id = $1 order by replay, attempt`,
      [deliveryId],
    );
    return rows.map(toRecord);
  }

  /**
   * The latest attempts at one target (the owner's rules' deliveries to one destination,
   * e.g. a webhook endpoint), newest first, started before `before` (epoch ms). One page
   * only: to page, use `pageForTarget` (many attempts can share the last one's millisecond).
   */
  async forTarget(
    target: { owner: string; kind: string; ref: string },
    page: { limit: number; before?: number },
  ): Promise<AttemptRecord[]> {
    return (await this.pageForTarget(target, page)).attempts;
  }

  /**
   * A page of `forTarget`'s listing, and the cursor of the next one. The order is
   * (started_at, delivery_id, replay, attempt) descending: the time alone is not unique (a
   * burst settles many attempts in one millisecond), and a page that ended inside such a
   * millisecond skipped the rest of it, or showed it again. `after` (the `next` of the
   * previous page) continues strictly after that attempt; `before` (epoch ms) starts at
   * the attempts that started before it.
   */
  async pageForTarget(
    target: { owner: string; kind: string; ref: string },
    page: { limit: number; before?: number; after?: AttemptCursor },
  ): Promise<{ attempts: AttemptRecord[]; next?: string }> {
    const params: unknown[] = [targetKey(target.owner, target.kind, target.ref)];
    let sql = `select * from delivery_attempts where target_key = $1`;
    if (page.before !== undefined) {
      params.push(page.before);
      sql += ` and started_at < $${params.length}`;
    }
    const c = page.after;
    if (c) {
      params.push(c.startedAt, c.deliveryId, c.replay, c.attempt);
      const [t, d, r, a] = [1, 2, 3, 4].map((i) => `$${params.length - 4 + i}`);
      // Spelled out rather than a row-value comparison, and with `started_at <= t` on its
      // own, so both engines bound the index range by the time.
      sql += ` and started_at <= ${t} and (started_at < ${t} or delivery_id < ${d}
        or (delivery_id = ${d} and (replay < ${r} or (replay = ${r} and attempt < ${a}))))`;
    }
    params.push(page.limit + 1);
    sql += ` order by started_at desc, delivery_id desc, replay desc, attempt desc limit $${params.length}`;
    const rows = (await this.#db.query(sql, params)).map(toRecord);
    const attempts = rows.slice(0, page.limit);
    const last = attempts[attempts.length - 1];
    return rows.length > page.limit && last
      ? { attempts, next: encodeAttemptCursor(last) }
      : { attempts };
  }
}

/** Where a page of `pageForTarget` ended: the last attempt's place in the listing's order. */
export type AttemptCursor = {
  startedAt: number;
  deliveryId: string;
  replay: number;
  attempt: number;
};

/** The attempt's place in the listing, as a page cursor (page-cursor.ts). */
export function encodeAttemptCursor(r: AttemptCursor): string {
  return encodePageCursor([r.startedAt, r.deliveryId, r.replay, r.attempt]);
}

/** Undefined for anything that is not a cursor `pageForTarget` made. */
export function decodeAttemptCursor(cursor: string): AttemptCursor | undefined {
  if (cursor.length > MAX_CURSOR_CHARS) return undefined;
  const values = decodePageCursor(cursor, 4);
  if (!values) return undefined;
  const [startedAt, deliveryId, replay, attempt] = values;
  if (!isTime(startedAt) || !isCursorId(deliveryId) || !isInt32(replay) || !isInt32(attempt))
    return undefined;
  return { startedAt, deliveryId, replay, attempt };
}

/** Room for the largest cursor made here (a 128-character id), base64url. */
const MAX_CURSOR_CHARS = 512;

/**
 * Keeps records readable, and never lets one answer grow a row without bound. U+0000
 * becomes U+FFFD: PostgreSQL text cannot hold it, and a receiver answering with a NUL byte
 * made the settlement fail, so the delivery was sent again after every lease, forever.
 */
export function clipText(text: string, max: number): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return clipped.includes('\0') ? clipped.replaceAll('\0', '\uFFFD') : clipped;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toRecord(r: Record<string, unknown>): AttemptRecord {
  return {
    deliveryId: r['delivery_id'] as string,
    attempt: Number(r['attempt']),
    replay: Number(r['replay']),
    owner: r['owner'] as string,
    targetKey: r['target_key'] as string,
    startedAt: Number(r['started_at']),
    durationMs: Number(r['duration_ms']),
    outcome: r['outcome'] as AttemptOutcome,
    statusCode: num(r['status_code']),
    error: (r['error'] as string | null) ?? null,
    response: (r['response'] as string | null) ?? null,
    retryAfterMs: num(r['retry_after_ms']),
    nextAttemptAt: num(r['next_attempt_at']),
    deadReason: (r['dead_reason'] as string | null) ?? null,
  };
}
