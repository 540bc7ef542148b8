/**
 * Measures durable append throughput of the SQLite event log (not a test: run it by
 * hand). Usage: node bench/ingest/sqlite-append.ts [events] [dir]
 *
 * Each scenario appends `events` CloudEvents (~0.5 KB JSON each, 50 tenants as
 * partition keys) with `callers` appends in flight at a time, on a fresh database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppendInput } from '../../packages/hub/src/backbone/event-log.ts';
import { openSqliteEventLog } from '../../packages/hub/src/backbone/sqlite/sqlite-event-log.ts';

const total = Number(process.argv[2] ?? 200_000);
const baseDir = process.argv[3] ?? tmpdir();

const scenarios = [
  { batch: 1, callers: 1 },
  { batch: 1, callers: 256 },
  { batch: 100, callers: 1 },
  { batch: 100, callers: 8 },
  { batch: 500, callers: 4 },
  { batch: 1000, callers: 1 },
  { batch: 1000, callers: 4 },
];

let sequence = 0;
function makeInput(): AppendInput {
  const n = sequence++;
  const tenant = `tenant-${n % 50}`;
  const id = `0193e5b2-7c1a-7000-8000-${n.toString(16).padStart(12, '0')}`;
  return {
    tenant,
    topic: 'orders.dev.order.created',
    partitionKey: tenant,
    dedupeKey: `${tenant}\u0000/shop/checkout\u0000${id}`,
    event: {
      specversion: '1.0',
      id,
      source: '/shop/checkout',
      type: 'orders.order.created',
      time: '2026-01-01T12:00:00.000Z',
      tenantid: tenant,
      correlationid: id,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      recordedtime: '2026-01-01T12:00:00.001Z',
      datacontenttype: 'application/json',
      data: {
        orderId: `ord-${n}`,
        customer: { id: `cust-${n % 977}`, tier: 'gold' },
        lines: [
          { sku: 'SKU-1001', qty: 2, price: 19.99 },
          { sku: 'SKU-2002', qty: 1, price: 5.5 },
        ],
        total: 45.48,
        currency: 'EUR',
      },
    },
  };
}

async function run(batch: number, callers: number): Promise<void> {
  const dir = mkdtempSync(join(baseDir, 'portico-append-'));
  const log = openSqliteEventLog({ path: join(dir, 'events.db') });
  try {
    const batches = Math.ceil(total / batch);
    const prepared = Array.from({ length: batches }, () =>
      Array.from({ length: batch }, makeInput),
    );
    let next = 0;
    const started = performance.now();
    // Process CPU (every thread: the caller's and the log's writer thread): on a busy
    // shared machine, CPU per event is steadier than events per second.
    const cpuBefore = process.cpuUsage();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (next < prepared.length) await log.append(prepared[next++]!);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const { commits, events } = log.stats();
    const rate = Math.round(events / seconds);
    console.log(
      `batch ${String(batch).padStart(4)} × ${String(callers).padStart(3)} callers: ` +
        `${rate.toLocaleString('en')} events/s, ${((cpu.user + cpu.system) / events).toFixed(1)} µs CPU/event  (${events} events, ${commits} commits, ${seconds.toFixed(2)} s)`,
    );
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const { batch, callers } of scenarios)
  await run(batch, batch === 1 && callers === 1 ? Math.min(total, 2_000) : callers);
