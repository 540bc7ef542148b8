/**
 * Measures appends/s through the NATS EventLog (batches of 100) beside raw JetStream
 * async publish from Node, in the same run, against the same server:
 *
 *   node packages/hub/src/backbone/nats/measure.ts [--events 20000] [--concurrency 8]
 *     [--postgres postgres://postgres@127.0.0.1:5432/postgres]
 *
 * raw        js.publish of the same bytes with Nats-Msg-Id, 100 per batch awaited together
 * log        EventLog.append without a DedupeStore (JetStream window only)
 * log+sqlite EventLog.append with the SQL dedupe record on a SQLite file
 * log+pg     EventLog.append with the SQL dedupe record on PostgreSQL (if --postgres)
 *
 * Each variant gets a fresh stream (file storage), deleted afterwards. `concurrency`
 * batches are in flight at once. Not a test: it prints a table.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import pg from 'pg';
import { openPostgresDatabase } from '../../store/postgres/postgres-database.ts';
import { openSqliteDatabase } from '../../store/sqlite/sqlite-database.ts';
import type { SqlDatabase } from '../../store/sql-database.ts';
import type { AppendInput } from '../event-log.ts';
import { openNatsEventLog } from './nats-event-log.ts';
import { openSqlDedupeStore } from './sql-dedupe-store.ts';

const { values: args } = parseArgs({
  options: {
    servers: { type: 'string', default: 'nats://127.0.0.1:4222' },
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '8' },
    postgres: { type: 'string' },
  },
});
const TOTAL = Number(args.events);
const CONCURRENCY = Number(args.concurrency);
const BATCH = 100;
const run = randomBytes(3).toString('hex');

const inputFor = (n: number): AppendInput => {
  const tenant = `tenant-${n % 10}`;
  const id = `${run}-${n}`;
  return {
    tenant,
    topic: 'orders.dev.order.created',
    partitionKey: tenant,
    dedupeKey: `/bench\u0000${id}`,
    event: {
      specversion: '1.0',
      id,
      source: '/bench',
      type: 'orders.order.created',
      time: new Date().toISOString(),
      tenantid: tenant,
      correlationid: id,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      recordedtime: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { orderId: n, amount: 42.5, currency: 'EUR', lines: [{ sku: 'A-1', qty: 2 }] },
    },
  };
};

/** Runs `batches` batch jobs with `CONCURRENCY` in flight; returns events per second. */
async function drive(work: (first: number) => Promise<unknown>): Promise<number> {
  const batches = Math.ceil(TOTAL / BATCH);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < batches) await work(next++ * BATCH);
    }),
  );
  return (batches * BATCH) / ((performance.now() - started) / 1000);
}

async function withStream<T>(
  nc: NatsConnection,
  work: (stream: string, prefix: string) => Promise<T>,
): Promise<T> {
  const id = randomBytes(3).toString('hex');
  const stream = `PORTICO_MEASURE_${id}`;
  const prefix = `portico_measure_${id}`;
  const jsm = await jetstreamManager(nc);
  try {
    return await work(stream, prefix);
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
  }
}

async function measureRaw(nc: NatsConnection): Promise<number> {
  return withStream(nc, async (stream, prefix) => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], storage: StorageType.File });
    const js = jetstream(nc);
    return drive((first) =>
      Promise.all(
        Array.from({ length: BATCH }, (_, i) => {
          const input = inputFor(first + i);
          return js.publish(
            `${prefix}.${input.tenant}.0.${input.topic}`,
            JSON.stringify(input.event),
            {
              msgID: input.dedupeKey.replace('\u0000', ':'),
            },
          );
        }),
      ),
    );
  });
}

async function measureLog(nc: NatsConnection, db: SqlDatabase | undefined): Promise<number> {
  return withStream(nc, async (stream, subjectPrefix) => {
    const dedupe = db ? await openSqlDedupeStore(db, { stream }) : undefined;
    const log = await openNatsEventLog({
      servers: args.servers,
      stream,
      subjectPrefix,
      ...(dedupe ? { dedupe } : {}),
    });
    try {
      return await drive((first) =>
        log.append(Array.from({ length: BATCH }, (_, i) => inputFor(first + i))),
      );
    } finally {
      await log.close();
    }
  });
}

const nc = await connect({ servers: args.servers });
const rows: [string, number][] = [];
// Warm-up: connection, JIT, file creation.
await measureRaw(nc);
rows.push(['raw JetStream publish', await measureRaw(nc)]);
rows.push(['EventLog (no dedupe store)', await measureLog(nc, undefined)]);
const dir = mkdtempSync(join(tmpdir(), 'portico-measure-'));
const sqlite = openSqliteDatabase(join(dir, 'store.sqlite'));
rows.push(['EventLog + SQLite dedupe', await measureLog(nc, sqlite)]);
await sqlite.close();
rmSync(dir, { recursive: true, force: true });
if (args.postgres) {
  const database = `portico_measure_${run}`;
  const admin = new pg.Client({ connectionString: args.postgres });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const url = new URL(args.postgres);
  url.pathname = `/${database}`;
  const db = openPostgresDatabase(url.toString());
  try {
    rows.push(['EventLog + PostgreSQL dedupe', await measureLog(nc, db)]);
  } finally {
    await db.close();
    await admin.query(`drop database ${database} with (force)`);
    await admin.end();
  }
}
await nc.close();

const raw = rows[0]![1];
console.log(`events=${TOTAL} batch=${BATCH} concurrency=${CONCURRENCY} nats=${args.servers}`);
for (const [name, rate] of rows)
  console.log(
    `${name.padEnd(30)} ${Math.round(rate).toString().padStart(8)} events/s  ${(rate / raw).toFixed(2)}x raw`,
  );
