/**
 * The dispatcher's read-ahead on a real SQLite store: a fast target holds leases beyond its
 * slots (so a freed slot starts the next delivery without waiting for a commit), but never
 * has more attempts in flight than its slots, and a stop gives the ready ones back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../store/sql-database.ts';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { createDeliveryMetrics } from './delivery-metrics.ts';
import { DeliveryStore, targetKey, type NewDelivery } from './delivery-store.ts';
import type { DeliveryTarget } from './delivery-target.ts';
import { Dispatcher } from './dispatcher.ts';
import { DELIVERY_MIGRATIONS } from './migrations.ts';
import { TargetRegistry } from './target-registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-read-ahead-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const silent = { error: () => undefined, warn: () => undefined };

function rows(n: number): NewDelivery[] {
  return Array.from({ length: n }, (_, i) => ({
    eventKey: `k${i}`,
    ruleId: 'r1',
    ruleName: 'r',
    targetIndex: 0,
    owner: 'tenant:a',
    tenant: 'a',
    kind: 'fast',
    ref: 'x',
    target: { kind: 'fast', dest: 'x' },
    ordered: false,
    partitionKey: 'a',
    eventPosition: i,
    event: {
      specversion: '1.0',
      id: `e${i}`,
      source: '/s',
      type: 't',
      time: '2025-01-01T00:00:00Z',
      tenantid: 'a',
      correlationid: `e${i}`,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      recordedtime: '2025-01-01T00:00:00Z',
    },
  }));
}

async function setup(target: DeliveryTarget) {
  const db: SqlDatabase = openSqliteDatabase(join(dir, `${Math.random()}.sqlite`));
  await db.migrate(DELIVERY_MIGRATIONS);
  const store = new DeliveryStore(db);
  const registry = new TargetRegistry();
  registry.register(
    'fast',
    target,
    { concurrency: 2, timeoutMs: 10_000 },
    { refField: 'dest', description: 'test' },
  );
  const dispatcher = new Dispatcher({
    store,
    registry,
    metrics: createDeliveryMetrics(new Registry(), store),
    logger: silent,
    discoveryIntervalMs: 60_000,
  });
  return { db, store, dispatcher };
}

const count = async (db: SqlDatabase, where: string) =>
  Number((await db.query(`select count(*) as n from deliveries where ${where}`))[0]?.['n']);

describe('dispatcher read-ahead', () => {
  it('leases ahead for a fast target but never runs more attempts than its slots', async () => {
    let inflight = 0;
    let most = 0;
    let done = 0;
    const { db, store, dispatcher } = await setup({
      async deliver() {
        most = Math.max(most, ++inflight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inflight--;
        done++;
        return { outcome: 'delivered' };
      },
    });
    await store.insertBatch(rows(60), Date.now());
    await dispatcher.start();
    dispatcher.notify([{ key: targetKey('tenant:a', 'fast', 'x'), kind: 'fast' }]);
    const deadline = Date.now() + 20_000;
    while ((await count(db, "status = 'delivered'")) < 60 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await dispatcher.stop();
    expect(done).toBe(60);
    expect(most).toBe(2);
    expect(await count(db, "status = 'delivered' and attempts = 1")).toBe(60);
    await db.close();
  });

  it('gives ready deliveries back on stop, unattempted', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const { db, store, dispatcher } = await setup({
      async deliver(_d, signal) {
        started++;
        // The first two are quick (the target looks fast), then attempts wait for the stop.
        if (started <= 2) return { outcome: 'delivered' };
        await Promise.race([
          held,
          new Promise((resolve) => signal.addEventListener('abort', resolve)),
        ]);
        return { outcome: 'delivered' };
      },
    });
    await store.insertBatch(rows(20), Date.now());
    await dispatcher.start();
    dispatcher.notify([{ key: targetKey('tenant:a', 'fast', 'x'), kind: 'fast' }]);
    const deadline = Date.now() + 20_000;
    // Two attempts hang in their slots while six more deliveries are leased, ready (a fast
    // target holds up to four times its slots).
    while ((await count(db, 'lease_token is not null')) < 8 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await count(db, 'lease_token is not null')).toBe(8);
    await dispatcher.stop();
    release();
    expect(started).toBe(4);
    expect(await count(db, 'lease_token is not null')).toBe(0);
    expect(await count(db, "status = 'delivered'")).toBe(2);
    expect(await count(db, "status = 'pending' and attempts = 0")).toBe(18);
    await db.close();
  });
});
