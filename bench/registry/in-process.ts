// In-process half of bench/registry: the real EventIngestor on a SQLite event log, with
// the registry's publish checks and without, alternating rounds so that noise from other
// work on the machine hits both alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { openSqliteEventLog } from '../../packages/hub/src/backbone/sqlite/sqlite-event-log.ts';
import { EventIngestor } from '../../packages/hub/src/events/ingest-events.ts';
import { createIngestMetrics } from '../../packages/hub/src/events/ingest-metrics.ts';
import type { PublishCheck } from '../../packages/hub/src/events/publish-check.ts';
import { REGISTRY_MIGRATIONS } from '../../packages/hub/src/registry/migrations.ts';
import { PublishCache } from '../../packages/hub/src/registry/publish-cache.ts';
import { createPublishChecks } from '../../packages/hub/src/registry/publish-validation.ts';
import { RegistryStore } from '../../packages/hub/src/registry/registry-store.ts';
import { SchemaCompiler } from '../../packages/hub/src/registry/schema-compiler.ts';
import { SchemaRegistry } from '../../packages/hub/src/registry/schema-registry.ts';
import { openSqliteDatabase } from '../../packages/hub/src/store/sqlite/sqlite-database.ts';

export async function inProcessIngest(options: {
  schema: unknown;
  data: unknown;
  batchSize: number;
  rounds: number;
  roundMs: number;
}): Promise<{ plain: number; control: number; validated: number; checkMicros: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-registry-inproc-'));
  const state = openSqliteDatabase(join(dir, 'state.db'));
  await state.migrate(REGISTRY_MIGRATIONS);
  const store = new RegistryStore(state);
  const registry = new SchemaRegistry({ store, compiler: new SchemaCompiler() });
  await registry.register('bench', 'bench.order.placed', {
    schema: JSON.stringify(options.schema),
  });
  const metrics = new Registry();
  const checks = createPublishChecks({
    cache: new PublishCache({ registry, store }),
    domains: {},
    logger: pino({ level: 'silent' }),
    metrics,
  });
  const ingestMetrics = createIngestMetrics(metrics);
  const ingestor = (name: string, withChecks: PublishCheck[]) => {
    const log = openSqliteEventLog({ path: join(dir, `${name}.db`) });
    return {
      log,
      ingestor: new EventIngestor({
        log,
        env: 'bench',
        limits: { maxEventBytes: 262_144, maxBatchSize: 10_000 },
        metrics: ingestMetrics,
        checks: withChecks,
      }),
    };
  };
  const plain = ingestor('plain', []);
  const validated = ingestor('validated', checks);
  // A second, identical unvalidated ingestor: how far two equal cases differ in this run.
  const control = ingestor('control', []);
  const principal = {
    tenant: 'bench',
    subject: 'bench',
    scopes: new Set(['events:publish']),
    expiresAt: Number.MAX_SAFE_INTEGER,
  };
  let sequence = 0;
  const batch = () =>
    Array.from({ length: options.batchSize }, () => ({
      specversion: '1.0',
      id: `e${++sequence}`,
      source: '/bench',
      type: 'bench.order.placed',
      time: '2026-01-01T00:00:00Z',
      data: structuredClone(options.data),
    }));
  const round = async (target: EventIngestor) => {
    const until = performance.now() + options.roundMs;
    let events = 0;
    const started = performance.now();
    while (performance.now() < until) {
      await target.ingest({
        principal,
        mode: 'batch',
        events: batch(),
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      events += options.batchSize;
    }
    return Math.round(events / ((performance.now() - started) / 1000));
  };
  let bestPlain = 0;
  let bestValidated = 0;
  let bestControl = 0;
  await round(plain.ingestor); // warm-up
  await round(validated.ingestor);
  await round(control.ingestor);
  for (let i = 0; i < options.rounds; i++) {
    bestPlain = Math.max(bestPlain, await round(plain.ingestor));
    bestValidated = Math.max(bestValidated, await round(validated.ingestor));
    bestControl = Math.max(bestControl, await round(control.ingestor));
  }
  // The checks alone, on prepared events (what validation adds per event).
  const events = batch().map((e) => ({
    ...e,
    specversion: '1.0' as const,
    tenantid: 'bench',
    correlationid: e.id,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    recordedtime: '2026-01-01T00:00:00Z',
  }));
  const repeats = 200;
  const started = performance.now();
  for (let r = 0; r < repeats; r++)
    for (const event of events)
      for (const check of checks) await check.check(event, 'bench.bench.order.placed');
  const checkMicros = ((performance.now() - started) * 1000) / (repeats * events.length);
  await plain.log.close();
  await validated.log.close();
  await control.log.close();
  await state.close();
  rmSync(dir, { recursive: true, force: true });
  return { plain: bestPlain, control: bestControl, validated: bestValidated, checkMicros };
}
