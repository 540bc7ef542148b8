/**
 * The router on the real SQLite log and store: a batch whose ack is lost is offered again,
 * and routing it again creates no second delivery.
 */
import { waitFor } from '../testing/wait-for.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendInput, EventLog, PulledEvent } from '../backbone/event-log.ts';
import { openSqliteEventLog } from '../backbone/sqlite/sqlite-event-log.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { DeliveryStore } from '../delivery/delivery-store.ts';
import { DELIVERY_MIGRATIONS } from '../delivery/migrations.ts';
import { TargetRegistry } from '../delivery/target-registry.ts';
import { ActiveRules } from './active-rules.ts';
import { ROUTING_MIGRATIONS } from './migrations.ts';
import { ROUTER_GROUP, Router } from './router.ts';
import { RuleStore } from './rule-store.ts';
import { tenantOwner } from './rule.ts';
import {} from './testing/http-receiver.ts';

const quiet = { error: () => undefined, warn: () => undefined };

let dir: string;
let log: EventLog;
let db: SqlDatabase;
let router: Router | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-router-'));
  log = openSqliteEventLog({ path: join(dir, 'events.db') });
  db = openSqliteDatabase(join(dir, 'state.db'));
  await db.migrate([...ROUTING_MIGRATIONS, ...DELIVERY_MIGRATIONS]);
});
afterEach(async () => {
  await router?.stop();
  await log.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function event(id: string): AppendInput {
  return {
    tenant: 'acme',
    topic: 'incident.dev.ticket.created',
    partitionKey: 'acme',
    dedupeKey: `acme/s/${id}`,
    event: {
      specversion: '1.0',
      id,
      source: '/s',
      type: 'incident.ticket.created',
      time: '2025-01-01T00:00:00Z',
      tenantid: 'acme',
      correlationid: id,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      recordedtime: '2025-01-01T00:00:00Z',
      data: { severity: 'high' },
    },
  };
}

/** The log, except that the first `lost` acks fail after doing nothing (an answer lost on the way). */
function losingAcks(inner: EventLog, lost: number, pulled: PulledEvent[]): EventLog {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'ack')
        return async (group: string, token: string) => {
          if (lost-- > 0) throw new Error('ack lost');
          return target.ack(group, token);
        };
      if (prop === 'pull')
        return async (...args: Parameters<EventLog['pull']>) => {
          const batch = await target.pull(...args);
          pulled.push(...batch);
          return batch;
        };
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

describe('router', () => {
  it('routes an event offered twice (its ack was lost) into one delivery per target', async () => {
    const rules = new RuleStore(db);
    await rules.create(
      tenantOwner('acme'),
      {
        name: 'page',
        description: '',
        enabled: true,
        pattern: { data: { severity: ['high'] } },
        targets: [
          { kind: 'queue', queue: 'oncall' },
          { kind: 'queue', queue: 'feed' },
        ],
      },
      10,
    );
    const active = new ActiveRules({ store: rules, logger: quiet });
    await active.reload();
    const registry = new TargetRegistry();
    registry.define({ kind: 'queue', refField: 'queue', description: 'queue' });
    const pulled: PulledEvent[] = [];
    const routed: string[] = [];
    router = new Router({
      log: losingAcks(log, 1, pulled),
      rules: active,
      deliveries: new DeliveryStore(db),
      registry,
      onRouted: (targets) => routed.push(...targets.map((t) => t.key)),
      metrics: new Registry(),
      logger: quiet,
      consumer: 'test',
      pullWaitMs: 50,
      errorBackoffMs: 10,
    });
    await router.start();
    await log.append([event('e1')]);

    // The dispatcher is told right after the acks resolve, a moment after the log shows them.
    await waitFor(
      async () =>
        (await log.getGroup(ROUTER_GROUP))?.inflight === 0 &&
        pulled.length === 2 &&
        routed.length === 2,
      'the second offer to be acked',
    );
    expect(pulled.map((p) => [p.event.id, p.deliveryCount])).toEqual([
      ['e1', 1],
      ['e1', 2],
    ]);
    const rows = await db.query<{ target_ref: string; event_id: string }>(
      'select target_ref, event_id from deliveries order by target_ref',
    );
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { target_ref: 'feed', event_id: 'e1' },
      { target_ref: 'oncall', event_id: 'e1' },
    ]);
    expect(routed).toHaveLength(2);
  });

  it('starts at the end of the log the first time, and keeps its position afterwards', async () => {
    const rules = new RuleStore(db);
    await rules.create(
      tenantOwner('acme'),
      {
        name: 'all',
        description: '',
        enabled: true,
        pattern: { id: [{ exists: true }] },
        targets: [{ kind: 'queue', queue: 'all' }],
      },
      10,
    );
    const registry = new TargetRegistry();
    registry.define({ kind: 'queue', refField: 'queue', description: 'queue' });
    const make = async () => {
      const active = new ActiveRules({ store: rules, logger: quiet });
      await active.reload();
      return new Router({
        log,
        rules: active,
        deliveries: new DeliveryStore(db),
        registry,
        onRouted: () => undefined,
        metrics: new Registry(),
        logger: quiet,
        consumer: 'test',
        pullWaitMs: 50,
      });
    };
    await log.append([event('before-first-start')]);
    router = await make();
    await router.start();
    await router.stop();
    await log.append([event('while-stopped')]);
    router = await make();
    await router.start();
    await waitFor(
      async () => (await db.query('select 1 from deliveries')).length > 0,
      'a delivery',
    );
    await waitFor(
      async () => (await log.getGroup(ROUTER_GROUP))?.inflight === 0,
      'the batch to be acked',
    );
    const ids = await db.query<{ event_id: string }>('select event_id from deliveries');
    expect(ids.map((r) => r.event_id)).toEqual(['while-stopped']);
    expect((await log.getGroup(ROUTER_GROUP))?.tenant).toBeUndefined();
  });
});
