/**
 * `DedupeStore` over the state store (`SqlDatabase`: SQLite or PostgreSQL), in one table:
 *
 *   portico_nats_events(stream, dedupe_key, event_key, position, partition_no, recorded_at)
 *     primary key (stream, dedupe_key); index (stream, event_key, position)
 *
 * `stream` lets several streams share one database. Rows live as long as their event is
 * in the stream (they are the id index); the dedupe window only decides whether a row
 * still counts as the original of a new append.
 */
import type { SqlDatabase, SqlExecutor } from '../../store/sql-database.ts';
import type { DedupeRecord, DedupeStore, RecordedEvent } from './dedupe-store.ts';

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

/** Rows per statement: 7 parameters each stays far below both engines' limits. */
const CHUNK = 200;

export async function openSqlDedupeStore(
  db: SqlDatabase,
  options: { stream: string },
): Promise<DedupeStore> {
  await db.migrate(sqlDedupeStoreMigrations);
  const { stream } = options;

  const select = async (tx: SqlExecutor, keys: readonly string[], notBefore: number) => {
    const found = new Map<string, RecordedEvent>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK);
      const list = chunk.map((_, j) => `$${j + 3}`).join(', ');
      const rows = await tx.query<{ dedupe_key: string; position: number; partition_no: number }>(
        `select dedupe_key, position, partition_no from portico_nats_events
          where stream = $1 and recorded_at >= $2 and dedupe_key in (${list})`,
        [stream, notBefore, ...chunk],
      );
      for (const row of rows)
        found.set(row.dedupe_key, { position: row.position, partition: row.partition_no });
    }
    return found;
  };

  return {
    find: (keys, notBefore) =>
      keys.length === 0 ? Promise.resolve(new Map()) : select(db, keys, notBefore),

    record: async (records, now, notBefore) => {
      // One statement per chunk, atomic on its own: rows it inserted or took over come
      // back through RETURNING; a key still held by an earlier event is looked up after.
      const holders = new Map<string, RecordedEvent>();
      for (let i = 0; i < records.length; i += CHUNK)
        for (const row of await upsert(db, stream, records.slice(i, i + CHUNK), now, notBefore))
          holders.set(row.dedupe_key, { position: row.position, partition: row.partition_no });
      const held = records.filter((r) => !holders.has(r.dedupeKey)).map((r) => r.dedupeKey);
      if (held.length > 0)
        for (const [key, event] of await select(db, held, notBefore)) holders.set(key, event);
      return holders;
    },

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

async function upsert(
  tx: SqlExecutor,
  stream: string,
  records: readonly DedupeRecord[],
  now: number,
  notBefore: number,
): Promise<{ dedupe_key: string; position: number; partition_no: number }[]> {
  const params: unknown[] = [stream, now, notBefore];
  const rows = records.map((r) => {
    params.push(r.dedupeKey, r.eventKey, r.position, r.partition);
    const n = params.length;
    return `($1, $${n - 3}, $${n - 2}, $${n - 1}, $${n}, $2)`;
  });
  // A key held by a record older than the window is taken over by the new event.
  return tx.query(
    `insert into portico_nats_events (stream, dedupe_key, event_key, position, partition_no, recorded_at)
     values ${rows.join(', ')}
     on conflict (stream, dedupe_key) do update set
       event_key = excluded.event_key, position = excluded.position,
       partition_no = excluded.partition_no, recorded_at = excluded.recorded_at
     where portico_nats_events.recorded_at < $3
     returning dedupe_key, position, partition_no`,
    params,
  );
}
