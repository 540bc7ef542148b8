/**
 * `DedupeStore` over the state store (`SqlDatabase`: SQLite or PostgreSQL), in one table:
 *
 *   portico_nats_events(stream, dedupe_key, event_key, position, partition_no, recorded_at)
 *     primary key (stream, dedupe_key); index (stream, event_key, position)
 *
 * `stream` lets several streams share one database. Rows live as long as their event is
 * in the stream (they are the id index); the dedupe window only decides whether a row
 * still counts as the original of a new append.
 *
 * Every append makes a `find` before publishing and a `record` after: concurrent appends'
 * calls are merged (`mergedCalls`), so under load one statement serves many requests.
 * On PostgreSQL the rows go as one JSON parameter (one short statement text, whatever the
 * batch size, instead of seven parameters a row to bind and plan).
 */
import type { SqlDatabase, SqlExecutor } from '../../store/sql-database.ts';
import type { DedupeRecord, DedupeStore, RecordedEvent } from './dedupe-store.ts';
import { mergedCalls } from './merged-calls.ts';

const DDL = `create table portico_nats_events (
  stream text not null,
  dedupe_key text not null,
  event_key text not null,
  position bigint not null,
  partition_no integer not null,
  recorded_at bigint not null,
  primary key (stream, dedupe_key)
);
create index portico_nats_events_by_event on portico_nats_events (stream, event_key, position);
create index portico_nats_events_by_position on portico_nats_events (stream, position);`;

export const sqlDedupeStoreMigrations = [
  { id: 'backbone-nats/001-events', sqlite: DDL, postgres: DDL },
];

/** Rows per SQLite statement: 6 parameters each stays far below its limit. */
const SQLITE_CHUNK = 200;
/** Keys per PostgreSQL lookup statement. */
const PG_FIND_CHUNK = 1_000;

type HolderRow = {
  dedupe_key: string;
  position: number;
  partition_no: number;
  recorded_at: number;
};

const UPSERT_TAIL = `on conflict (stream, dedupe_key) do update set
       event_key = excluded.event_key, position = excluded.position,
       partition_no = excluded.partition_no, recorded_at = excluded.recorded_at
     where portico_nats_events.recorded_at < excluded.recorded_at - $2
     returning dedupe_key, position, partition_no, recorded_at`;

export async function openSqlDedupeStore(
  db: SqlDatabase,
  options: { stream: string; maxStatementsInFlight?: number },
): Promise<DedupeStore> {
  await db.migrate(sqlDedupeStoreMigrations);
  const { stream } = options;
  const postgres = db.dialect === 'postgres';

  const select = async (tx: SqlExecutor, keys: readonly string[]) => {
    const found = new Map<string, RecordedEvent>();
    const chunk = postgres ? PG_FIND_CHUNK : SQLITE_CHUNK;
    for (let i = 0; i < keys.length; i += chunk) {
      const part = keys.slice(i, i + chunk);
      const rows = postgres
        ? // One primary-key probe per key (LATERAL … LIMIT 1 keeps the planner from
          // flattening it): with `dedupe_key = any(…)` PostgreSQL preferred scanning the
          // whole stream's rows once the list was long (67 ms at 60k rows, growing).
          await tx.query<HolderRow>(
            `select e.dedupe_key, e.position, e.partition_no, e.recorded_at
               from unnest($2::text[]) as k(key)
               cross join lateral (
                 select dedupe_key, position, partition_no, recorded_at from portico_nats_events
                  where stream = $1 and dedupe_key = k.key limit 1) as e`,
            [stream, textArray(part)],
          )
        : await tx.query<HolderRow>(
            `select dedupe_key, position, partition_no, recorded_at from portico_nats_events
              where stream = $1 and dedupe_key in (${part.map((_, j) => `$${j + 2}`).join(', ')})`,
            [stream, ...part],
          );
      for (const row of rows) found.set(row.dedupe_key, holderOf(row));
    }
    return found;
  };

  const upsert = (records: readonly DedupeRecord[], windowMs: number): Promise<HolderRow[]> => {
    if (postgres)
      return db.query<HolderRow>(
        `insert into portico_nats_events (stream, dedupe_key, event_key, position, partition_no, recorded_at)
         select $1, r.k, r.e, r.p, r.n, r.t
           from json_to_recordset($3::json) as r(k text, e text, p bigint, n integer, t bigint)
         ${UPSERT_TAIL}`,
        [
          stream,
          windowMs,
          records.map((r) => ({
            k: r.dedupeKey,
            e: r.eventKey,
            p: r.position,
            n: r.partition,
            t: r.recordedAt,
          })),
        ],
      );
    const params: unknown[] = [stream, windowMs];
    const rows = records.map((r) => {
      params.push(r.dedupeKey, r.eventKey, r.position, r.partition, r.recordedAt);
      const n = params.length;
      return `($1, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    return db.query<HolderRow>(
      `insert into portico_nats_events (stream, dedupe_key, event_key, position, partition_no, recorded_at)
       values ${rows.join(', ')}
       ${UPSERT_TAIL}`,
      params,
    );
  };

  const record = async (records: readonly DedupeRecord[], windowMs: number) => {
    // One statement per chunk, atomic on its own: rows it inserted or took over come back
    // through RETURNING; a key still held by an earlier event is looked up after.
    const holders = new Map<string, RecordedEvent>();
    const chunk = postgres ? records.length : SQLITE_CHUNK;
    for (let i = 0; i < records.length; i += chunk)
      for (const row of await upsert(records.slice(i, i + chunk), windowMs))
        holders.set(row.dedupe_key, holderOf(row));
    const held = records.filter((r) => !holders.has(r.dedupeKey)).map((r) => r.dedupeKey);
    if (held.length > 0) for (const [key, event] of await select(db, held)) holders.set(key, event);
    return holders;
  };

  const maxInFlight = options.maxStatementsInFlight ?? 2;
  const mergedFind = mergedCalls((keys: string[]) => select(db, [...new Set(keys)]), {
    maxInFlight,
  });
  // Merged calls are grouped by window (one log uses one), and a key recorded by two
  // calls at once goes in once: a statement may not upsert one row twice.
  const mergedRecords = new Map<
    number,
    (records: readonly DedupeRecord[]) => Promise<Map<string, RecordedEvent>>
  >();
  const recordIn = (windowMs: number) => {
    let merged = mergedRecords.get(windowMs);
    if (!merged) {
      merged = mergedCalls(
        (records: DedupeRecord[]) => {
          const byKey = new Map<string, DedupeRecord>();
          for (const r of records) if (!byKey.has(r.dedupeKey)) byKey.set(r.dedupeKey, r);
          return record([...byKey.values()], windowMs);
        },
        { maxInFlight },
      );
      mergedRecords.set(windowMs, merged);
    }
    return merged;
  };

  return {
    find: (keys) => (keys.length === 0 ? Promise.resolve(new Map()) : mergedFind(keys)),

    record: (records, windowMs) =>
      records.length === 0 ? Promise.resolve(new Map()) : recordIn(windowMs)(records),

    positionOf: async (eventKey) => {
      const [row] = await db.query<{ position: number }>(
        'select position from portico_nats_events where stream = $1 and event_key = $2 order by position desc limit 1',
        [stream, eventKey],
      );
      return row?.position;
    },

    forgetBefore: (position) =>
      db.execute('delete from portico_nats_events where stream = $1 and position < $2', [
        stream,
        position,
      ]),
  };
}

function holderOf(row: HolderRow): RecordedEvent {
  return { position: row.position, partition: row.partition_no, recordedAt: row.recorded_at };
}

/** A PostgreSQL array literal of texts, each element quoted. */
function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}
