// The floor under case (b) of run.ts: how close to the raw undici loop (a) a sender gets
// that does only part of what a Portico delivery does, in one run (rounds alternate):
//   (a) the raw loop (run.ts's peer);
//   (s) the same loop signing each request (Standard Webhooks `v1`, the hub's own signer);
//   (f) (s) plus a durable attempt record per delivery, written through the hub's own state
//       store (SQLite, group commit on its writer thread, fsynced before the case ends);
//   (r) the hub's own delivery rows instead: each event inserted as a pending delivery row
//       (chunks of 100, as the router does), claimed (64 at a time, as the dispatcher's
//       read-ahead does), signed, POSTed and settled with its attempt record, all through
//       the hub's DeliveryStore: the row lifecycle without ingest, log, router or dispatcher;
//   (b) Portico: publish → route → durable delivery row → claim → signed POST → settle with
//       its attempt record (run.ts's case (b)).
// Each row's gap to the one before it is what that part costs. The loops run in this
// process (their CPU is this process's), Portico in its own.
// Usage: node bench/webhooks/floor.ts [--events 10000] [--rounds 2] [--concurrency 16]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { insertAttempt } from '../../packages/hub/src/delivery/attempt-log.ts';
import { DELIVERY_MIGRATIONS } from '../../packages/hub/src/delivery/migrations.ts';
import { targetKey } from '../../packages/hub/src/delivery/target-key.ts';
import { TransactionBatcher } from '../../packages/hub/src/delivery/transaction-batcher.ts';
import { openSqliteDatabase } from '../../packages/hub/src/store/sqlite/sqlite-database.ts';
import { createSigner, generateSecret } from '../../packages/hub/src/webhooks/signing/index.ts';
import type { CloudEventRecord } from '../../packages/hub/src/backbone/event-log.ts';
import type { AttemptRecord } from '../../packages/hub/src/delivery/attempt-log.ts';
import {
  DeliveryStore,
  type ClaimedDelivery,
  type NewDelivery,
} from '../../packages/hub/src/delivery/delivery-store.ts';
import type { SqlDatabase } from '../../packages/hub/src/store/sql-database.ts';
import {
  keepBest,
  noResult,
  porticoCase,
  postLoop,
  startReceiver,
  loopBody,
  type CaseResult,
  type LoopItem,
} from './cases.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
  },
});
const events = Number(values.events);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);

const sign = createSigner([{ kind: 'hmac', secret: generateSecret() }]);
const signed = (msgId: string, body: string) =>
  sign({ msgId, timestamp: Math.floor(Date.now() / 1000), body });

/** The attempt record the dispatcher writes for a delivered attempt. */
const attempt = (
  deliveryId: string,
  key: string,
  status: number,
  startedAt: number,
  durationMs: number,
): AttemptRecord => ({
  deliveryId,
  attempt: 1,
  replay: 0,
  owner: OWNER,
  targetKey: key,
  startedAt,
  durationMs,
  outcome: status < 300 ? 'delivered' : 'retry',
  statusCode: status,
  error: null,
  response: null,
  retryAfterMs: null,
  nextAttemptAt: null,
  deadReason: null,
});
const OWNER = 'tenant:bench';

/** A case on a fresh state store (the hub's SQLite, migrated) in a temporary directory. */
async function withStore<T>(work: (db: SqlDatabase) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-webhooks-floor-'));
  const db = openSqliteDatabase(join(dir, 'state.db'));
  try {
    await db.migrate(DELIVERY_MIGRATIONS);
    return await work(db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** (f): the signed loop, each answer recorded as the dispatcher records an attempt. */
const recordedLoop = (path: string) =>
  withStore(async (db) => {
    const batcher = new TransactionBatcher(db);
    const key = targetKey(OWNER, 'webhook', path);
    const writes: Promise<unknown>[] = [];
    return postLoop(r, path, {
      events,
      concurrency,
      headers: ({ i, body }) => signed(`msg_${i}`, body),
      answered: ({ i }, status, startedAt, durationMs) => {
        const record = attempt(`${path}-${i}`, key, status, startedAt, durationMs);
        writes.push(
          batcher.run({
            order: `0${record.deliveryId}`,
            statements: [insertAttempt(record)],
            result: () => 0,
          }),
        );
      },
      finish: async () => void (await Promise.all(writes)),
    });
  });

/** (r): the delivery rows' lifecycle through the hub's DeliveryStore. */
const rowLoop = (path: string) =>
  withStore(async (db) => {
    const store = new DeliveryStore(db);
    const key = targetKey(OWNER, 'webhook', path);
    const target = { kind: 'webhook', endpoint: path };
    let inserted = false;
    const insert = (async () => {
      for (let i = 0; i < events; i += 100) {
        const rows: NewDelivery[] = [];
        for (let j = i; j < Math.min(events, i + 100); j++)
          rows.push({
            eventKey: `${Date.now().toString(36)}.${path}-${j}`,
            ruleId: 'rule-1',
            ruleName: 'bench',
            targetIndex: 0,
            owner: OWNER,
            tenant: 'bench',
            kind: 'webhook',
            ref: path,
            target,
            ordered: false,
            partitionKey: 'bench',
            eventPosition: j + 1,
            event: JSON.parse(loopBody(j)) as CloudEventRecord,
          });
        await store.insertBatch(rows, Date.now());
      }
      inserted = true;
    })();
    const ready: (ClaimedDelivery & LoopItem)[] = [];
    let claiming: Promise<void> | undefined;
    const claim = async () => {
      const rows = await store.claim(key, 4 * concurrency, Date.now(), 30_000);
      ready.push(...rows.map((row, i) => ({ ...row, i, body: row.eventJson })));
      if (rows.length === 0 && !inserted) await new Promise((resolve) => setTimeout(resolve, 1));
    };
    const take = async (): Promise<(ClaimedDelivery & LoopItem) | undefined> => {
      while (ready.length === 0) {
        if (inserted && claiming === undefined) {
          // Everything is inserted: one last look, then the loop is done.
          await claim();
          if (ready.length === 0) return undefined;
          break;
        }
        claiming ??= claim().finally(() => (claiming = undefined));
        await claiming;
      }
      return ready.shift();
    };
    const writes: Promise<unknown>[] = [insert];
    return postLoop(r, path, {
      events,
      concurrency,
      take,
      headers: (row) => signed(row.id, row.body),
      answered: (row, status, startedAt, durationMs) => {
        const record = attempt(row.id, key, status, startedAt, durationMs);
        writes.push(store.settleDelivered(row.id, row.leaseToken, Date.now(), record));
      },
      finish: async () => void (await Promise.all(writes)),
    });
  });

const r = await startReceiver(18093);
try {
  const best = { a: noResult, s: noResult, f: noResult, r: noResult, b: noResult };
  for (let round = 0; round < rounds; round++) {
    best.a = keepBest(best.a, await postLoop(r, `/a-${round}`, { events, concurrency }));
    best.s = keepBest(
      best.s,
      await postLoop(r, `/s-${round}`, {
        events,
        concurrency,
        headers: ({ i, body }) => signed(`msg_${i}`, body),
      }),
    );
    best.f = keepBest(best.f, await recordedLoop(`/f-${round}`));
    best.r = keepBest(best.r, await rowLoop(`/r-${round}`));
    best.b = keepBest(
      best.b,
      await porticoCase({ receiver: r, port: 18094, events, concurrency, n: round + 1 }),
    );
    console.log(`  round ${round + 1} of ${rounds} done`);
  }
  const rows: [string, CaseResult][] = [
    ['(a) raw undici POST loop', best.a],
    ['(s) (a) + Standard Webhooks signature', best.s],
    ['(f) (s) + durable attempt record (hub state store, group commit)', best.f],
    ['(r) (s) through delivery rows: insert, claim, settle + attempt record', best.r],
    ['(b) Portico: publish → route → signed delivery + attempt record', best.b],
  ];
  console.log(
    `\nbench/webhooks floor: ${events} deliveries per case, concurrency ${concurrency}, best of ${rounds}\n` +
      '| case | deliveries/s | × (a) | sender CPU ms/delivery | receiver CPU ms/request |\n|---|---:|---:|---:|---:|',
  );
  for (const [name, x] of rows)
    console.log(
      `| ${name} | ${x.rate.toFixed(0)} | ${(x.rate / best.a.rate).toFixed(2)} | ${x.senderCpuMs.toFixed(3)} | ${x.receiverCpuMs.toFixed(3)} |`,
    );
} finally {
  await r.stop();
}
