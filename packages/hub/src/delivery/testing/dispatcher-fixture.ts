/** A dispatcher on a real SQLite delivery store, with one target kind (`fast`), for tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { SqlDatabase } from '../../store/sql-database.ts';
import { openSqliteDatabase } from '../../store/sqlite/sqlite-database.ts';
import { createDeliveryMetrics } from '../delivery-metrics.ts';
import { DeliveryStore, type NewDelivery } from '../delivery-store.ts';
import type { DeliveryTarget } from '../delivery-target.ts';
import { Dispatcher, type DispatcherOptions } from '../dispatcher.ts';
import { DELIVERY_MIGRATIONS } from '../migrations.ts';
import type { SenderOptions } from '../target-registry.ts';
import { TargetRegistry } from '../target-registry.ts';

const silent = { error: () => undefined, warn: () => undefined };

/** `n` unordered deliveries of events e<from>… to the `fast` target `x` of tenant `a`. */
function rows(n: number, from = 0): NewDelivery[] {
  return Array.from({ length: n }, (_, j) => j + from).map((i) => ({
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

/** Databases go under a temporary folder that `cleanup` removes. */
export function dispatcherFixture(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  async function setup(
    target: DeliveryTarget,
    options: Partial<Pick<DispatcherOptions, 'readAheadChars' | 'leaseMarginMs'>> = {},
    sender: SenderOptions = {},
  ) {
    const db: SqlDatabase = openSqliteDatabase(join(dir, `${Math.random()}.sqlite`));
    await db.migrate(DELIVERY_MIGRATIONS);
    const store = new DeliveryStore(db);
    const registry = new TargetRegistry();
    registry.register(
      'fast',
      target,
      { concurrency: 2, timeoutMs: 10_000, ...sender },
      { refField: 'dest', description: 'test' },
    );
    const dispatcher = new Dispatcher({
      store,
      registry,
      metrics: createDeliveryMetrics(new Registry(), store),
      logger: silent,
      discoveryIntervalMs: 60_000,
      ...options,
    });
    return { db, store, dispatcher };
  }
  return { setup, rows, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deliveries matching a SQL condition. */
export const count = async (db: SqlDatabase, where: string) =>
  Number((await db.query(`select count(*) as n from deliveries where ${where}`))[0]?.['n']);
