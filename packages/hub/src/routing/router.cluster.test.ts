/**
 * The router on NATS JetStream and PostgreSQL, given events PostgreSQL cannot take (stored
 * before the HTTP edge refused them: U+0000 in the id, a partitionkey too long for an index
 * entry). Their delivery inserts failed, the router retried the batch forever, and no later
 * event was routed. Now each such event is terminated and the others are routed.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterEngines, NATS } from '../../test/cluster/engines.ts';
import type { AppendInput, EventLog } from '../backbone/event-log.ts';
import { openNatsEventLog } from '../backbone/nats/nats-event-log.ts';
import { DeliveryStore } from '../delivery/delivery-store.ts';
import { DELIVERY_MIGRATIONS } from '../delivery/migrations.ts';
import { TargetRegistry } from '../delivery/target-registry.ts';
import { openPostgresDatabase } from '../store/postgres/postgres-database.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { waitFor } from '../testing/wait-for.ts';
import { ActiveRules } from './active-rules.ts';
import { ROUTING_MIGRATIONS } from './migrations.ts';
import { ROUTER_GROUP, Router } from './router.ts';
import { RuleStore } from './rule-store.ts';
import { tenantOwner } from './rule.ts';

const quiet = { error: () => undefined, warn: () => undefined };

const engines = clusterEngines('router');
let db: SqlDatabase;
let log: EventLog;
let router: Router | undefined;

beforeAll(async () => {
  const stream = engines.stream();
  db = openPostgresDatabase(engines.database().url, { poolSize: 4 });
  await db.migrate([...ROUTING_MIGRATIONS, ...DELIVERY_MIGRATIONS]);
  log = await openNatsEventLog({
    servers: NATS,
    stream: stream.stream,
    subjectPrefix: stream.subjectPrefix,
  });
});
afterAll(async () => {
  await router?.stop();
  await log?.close();
  await db?.close();
});

function event(id: string, partitionKey = 'acme'): AppendInput {
  return {
    tenant: 'acme',
    topic: 'incident.dev.ticket.created',
    partitionKey,
    dedupeKey: `acme/s/${id}`,
    event: {
      specversion: '1.0',
      id,
      source: '/s',
      type: 'incident.ticket.created',
      time: '2025-01-01T00:00:00Z',
      tenantid: 'acme',
      correlationid: 'c',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      recordedtime: '2025-01-01T00:00:00Z',
      partitionkey: partitionKey,
      data: { severity: 'high' },
    },
  };
}

it('terminates an event PostgreSQL refuses, and routes the others of its batch and later', async () => {
  const rules = new RuleStore(db);
  await rules.create(
    tenantOwner('acme'),
    {
      name: 'page',
      description: '',
      enabled: true,
      pattern: { data: { severity: ['high'] } },
      targets: [{ kind: 'queue', queue: 'oncall', ordered: true }],
    },
    10,
  );
  const active = new ActiveRules({ store: rules, logger: quiet });
  await active.reload();
  const registry = new TargetRegistry();
  registry.define({ kind: 'queue', refField: 'queue', description: 'queue' });
  const refused: unknown[] = [];
  const metrics = new Registry();
  router = new Router({
    log,
    rules: active,
    deliveries: new DeliveryStore(db),
    registry,
    onRouted: () => undefined,
    metrics,
    logger: { error: (obj) => refused.push(obj), warn: () => undefined },
    consumer: 'test',
    pullWaitMs: 50,
    errorBackoffMs: 10,
  });
  await router.start();
  // One batch: a good event, two that PostgreSQL refuses, another good one; then one more.
  const longKey = Array.from({ length: 800 }, (_, i) => (i * 7919).toString(36)).join('');
  await log.append([
    event('ok-1'),
    event('nul\u0000id'),
    event('long-key', longKey),
    event('ok-2'),
  ]);
  await log.append([event('ok-3')]);

  await waitFor(async () => {
    const rows = await db.query<{ event_id: string }>('select event_id from deliveries');
    return rows.length === 3 && (await log.getGroup(ROUTER_GROUP))?.inflight === 0;
  }, 'the good events routed and every event settled');
  const rows = await db.query<{ event_id: string }>(
    'select event_id from deliveries order by event_position',
  );
  expect(rows.map((r) => r.event_id)).toEqual(['ok-1', 'ok-2', 'ok-3']);
  expect(refused).toHaveLength(2);
  // Operators see it on /metrics, not only in the log.
  expect(await metrics.getSingleMetricAsString('portico_router_unroutable_events_total')).toContain(
    'portico_router_unroutable_events_total{tenant="acme"} 2',
  );
});
