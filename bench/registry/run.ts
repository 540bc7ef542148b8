// bench/registry: the cost of schema validation at publish, and of compatibility checks.
//
// (1) One hub process, driven by autocannon: the same events published under a type with
//     a registered schema (validated at publish) and under a type without one, single and
//     batched, alternating the two so that the machine's noise hits both alike.
// (1b) The same comparison in process: the real EventIngestor and SQLite log, no HTTP.
// (2) In process: checkCompatibility on a large schema (1,000 properties, nested objects,
//     $defs), and one registration through the HTTP API under FULL_TRANSITIVE against 5
//     earlier versions (meta-schema check, compile, 10 directional checks, store).
//
// Usage: npm run bench:registry [-- --seconds 6 --batch 100]
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadOrCreateDevIssuer } from '../../packages/hub/src/auth/dev-issuer.ts';
import { checkCompatibility } from '../../packages/hub/src/registry/compatibility/index.ts';
import { SchemaCompiler } from '../../packages/hub/src/registry/schema-compiler.ts';
import { inProcessIngest } from './in-process.ts';
import { printTable, runLoad, type LoadResult } from '../lib/load.ts';
import { startProcess, stopProcess } from '../lib/processes.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '2' },
  },
});
const seconds = Number(values.seconds);
const batchSize = Number(values.batch);
const rounds = Number(values.rounds);
const main = fileURLToPath(new URL('../../packages/hub/src/main.ts', import.meta.url));
// A free port, not a fixed one: other benchmarks may be running on this machine.
const hubPort = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(port));
  });
});
const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-registry-'));
const base = `http://127.0.0.1:${hubPort}`;

console.log(
  `bench/registry: ${seconds}s per case, ${rounds} alternating rounds, batch of ${batchSize}; server and load generator share this machine's ${availableParallelism()} cores (other work running: figures are noisy)`,
);

// A realistic order event: formats, enums, a nested object and an array of lines.
const orderSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    placedAt: { type: 'string', format: 'date-time' },
    currency: { enum: ['EUR', 'USD', 'GBP'] },
    total: { type: 'number', minimum: 0 },
    customer: {
      type: 'object',
      properties: {
        id: { type: 'string', pattern: '^C-[0-9]+$' },
        tier: { enum: ['basic', 'gold'] },
        email: { type: 'string', 'x-pii': true },
      },
      required: ['id'],
    },
    lines: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string', minLength: 1, maxLength: 32 },
          qty: { type: 'integer', minimum: 1 },
          price: { type: 'number', minimum: 0 },
        },
        required: ['sku', 'qty'],
        additionalProperties: false,
      },
    },
  },
  required: ['orderId', 'currency', 'total', 'lines'],
};
const data = JSON.stringify({
  orderId: '0b9a4c1e-2f0e-4e8a-9d57-3f7f7f1b2c3d',
  placedAt: '2026-01-01T10:00:00Z',
  currency: 'EUR',
  total: 42.5,
  customer: { id: 'C-1001', tier: 'gold' },
  lines: [
    { sku: 'A-1', qty: 2, price: 9.99 },
    { sku: 'B-22', qty: 1, price: 12.5 },
    { sku: 'C-333', qty: 3, price: 3.34 },
  ],
});
const event = (type: string, id: string) =>
  `{"specversion":"1.0","id":"${id}","source":"/bench","type":"${type}","time":"2026-01-01T00:00:00Z","data":${data}}`;

const hub = await startProcess(
  [main, 'start', '--port', String(hubPort), '--host', '127.0.0.1', '--data-dir', dataDir],
  `${base}/readyz`,
  { PORTICO_LOG_LEVEL: 'warn' },
);
try {
  const token = await (
    await loadOrCreateDevIssuer(dataDir, { audience: 'urn:portico' })
  ).mint({ tenant: 'bench', scopes: ['events:publish', 'schemas:write', 'events:read'] });
  const auth = { authorization: `Bearer ${token}` };
  const registered = await fetch(`${base}/v1/registry/subjects/bench.order.placed/versions`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ schema: JSON.stringify(orderSchema) }),
  });
  if (!registered.ok) throw new Error(`registration failed: ${await registered.text()}`);

  // A check that the validated path really validates: a bad event is refused.
  const refused = await fetch(`${base}/v1/events`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/cloudevents+json' },
    body: event('bench.order.placed', 'bad').replace('"qty":2', '"qty":0'),
  });
  if (refused.status !== 422)
    throw new Error(`expected 422 for an invalid event, got ${refused.status}`);

  const url = `${base}/v1/events`;
  const single = (type: string, label: string) =>
    runLoad({
      name: `single-event, ${label}`,
      url,
      method: 'POST',
      seconds,
      headers: { ...auth, 'content-type': 'application/cloudevents+json' },
      body: (i) => event(type, `${label}-${Date.now()}-${i}`),
    });
  const batched = (type: string, label: string) =>
    runLoad({
      name: `batch of ${batchSize}, ${label}`,
      url,
      method: 'POST',
      seconds,
      itemsPerRequest: batchSize,
      connections: 8,
      headers: { ...auth, 'content-type': 'application/cloudevents-batch+json' },
      body: (i) => {
        const prefix = `${label}-${Date.now()}-${i}`;
        return `[${Array.from({ length: batchSize }, (_, k) => event(type, `${prefix}-${k}`)).join(',')}]`;
      },
    });

  const warmUp = {
    name: 'warm-up',
    url,
    method: 'POST' as const,
    seconds: 3,
    headers: { ...auth, 'content-type': 'application/cloudevents+json' },
  };
  const results: Record<string, LoadResult[]> = {
    singlePlain: [],
    singleValidated: [],
    batchPlain: [],
    batchValidated: [],
    // A second type without a schema, measured like the first: the run's noise floor.
    batchControl: [],
  };
  // Warm-up, not counted: the first seconds of a fresh process (JIT, SQLite pages)
  // would otherwise penalise whichever case runs first.
  await runLoad({ ...warmUp, body: (i) => event('bench.order.shipped', `w1-${i}`) });
  await runLoad({ ...warmUp, body: (i) => event('bench.order.placed', `w2-${i}`) });
  for (let round = 0; round < rounds; round++) {
    results.singlePlain!.push(await single('bench.order.shipped', 'no schema'));
    results.singleValidated!.push(await single('bench.order.placed', 'validated'));
    results.batchPlain!.push(await batched('bench.order.shipped', 'no schema'));
    results.batchValidated!.push(await batched('bench.order.placed', 'validated'));
    results.batchControl!.push(await batched('bench.order.returned', 'no schema (control)'));
  }
  const best = (rows: LoadResult[]) =>
    rows.reduce((a, b) => (b.itemsPerSec > a.itemsPerSec ? b : a));
  const rows = Object.values(results).map(best);
  printTable(rows, rows[0]!);
  const ratio = (validated: LoadResult, plain: LoadResult) =>
    `${((1 - validated.itemsPerSec / plain.itemsPerSec) * 100).toFixed(1)}% slower`;
  console.log(
    `\nbest of ${rounds} rounds each. validation cost: single-event ${ratio(best(results.singleValidated!), best(results.singlePlain!))}, batched ${ratio(best(results.batchValidated!), best(results.batchPlain!))} (target ≤ 15%); batched control without a schema ${ratio(best(results.batchControl!), best(results.batchPlain!))} (noise floor)`,
  );

  // (1b) The same comparison without HTTP or a load generator competing for the CPU.
  const inProcess = await inProcessIngest({
    schema: orderSchema,
    data: JSON.parse(data) as unknown,
    batchSize,
    rounds: 8,
    roundMs: 1000,
  });
  const perEventMicros = 1e6 / inProcess.plain;
  console.log(
    `\nin process (EventIngestor + SQLite log, batches of ${batchSize}, best of 8 alternating 1 s rounds): ${inProcess.plain} events/s without a schema, ${inProcess.validated} validated: ${((1 - inProcess.validated / inProcess.plain) * 100).toFixed(1)}% slower (target ≤ 15%); an identical unvalidated control: ${inProcess.control} events/s (${((1 - inProcess.control / inProcess.plain) * 100).toFixed(1)}%: the noise floor of this run)`,
  );
  console.log(
    `the two publish checks alone: ${inProcess.checkMicros.toFixed(1)} µs per event, against ${perEventMicros.toFixed(1)} µs per event for the whole unvalidated ingest: ${((inProcess.checkMicros / (perEventMicros + inProcess.checkMicros)) * 100).toFixed(1)}% of a validated event's cost (the SQLite append, fsync included, dominates and is what the machine's other work disturbs)`,
  );

  // (2) Compatibility on a large schema.
  const large = (variant: number) => largeSchema(1000, variant);
  const v1 = large(0);
  const v2 = large(1);
  const bytes = JSON.stringify(v2).length;
  const timings: number[] = [];
  let incompatibilities = 0;
  for (let i = 0; i < 15; i++) {
    const started = performance.now();
    incompatibilities = checkCompatibility('FULL', v2, [v1]).length;
    timings.push(performance.now() - started);
  }
  timings.sort((a, b) => a - b);
  console.log(
    `\ncheckCompatibility FULL (both directions), ${Math.round(bytes / 1024)} KiB schema, 1,000 properties: median ${timings[7]!.toFixed(1)} ms, min ${timings[0]!.toFixed(1)} ms (${incompatibilities} incompatibilities, expected 0)`,
  );

  const compiler = new SchemaCompiler();
  let started = performance.now();
  compiler.metaProblems(v2, '2020-12');
  const metaMs = performance.now() - started;
  started = performance.now();
  compiler.compile(v2, '2020-12');
  console.log(
    `the same schema: meta-schema check ${metaMs.toFixed(0)} ms, ajv compile ${(performance.now() - started).toFixed(0)} ms (both run at registration; the compile also on another node's first publish of the type)`,
  );

  const subject = 'bench.catalog.updated';
  await fetch(`${base}/v1/registry/config/${subject}`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ compatibility: 'FULL_TRANSITIVE' }),
  });
  for (let v = 0; v <= 5; v++) {
    const started = performance.now();
    const response = await fetch(`${base}/v1/registry/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ schema: JSON.stringify(large(v)) }),
    });
    const ms = performance.now() - started;
    if (!response.ok) throw new Error(`registration ${v + 1} failed: ${await response.text()}`);
    if (v === 5)
      console.log(
        `registration over HTTP under FULL_TRANSITIVE against 5 earlier versions of that schema: ${ms.toFixed(0)} ms`,
      );
  }
} finally {
  await stopProcess(hub);
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * `count` properties, each a nested object with constraints, sharing `$defs`; `variant`
 * adds optional properties and widens a bound, so every variant is FULL compatible with
 * the previous ones (each one's new optional property is unknown to the older ones, an
 * open content model, Portico's default decision).
 */
function largeSchema(count: number, variant: number): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < count; i++)
    properties[`field${i}`] = {
      type: 'object',
      properties: {
        id: { type: 'string', pattern: '^[A-Z]{2}-[0-9]+$' },
        amount: { $ref: '#/$defs/money' },
        state: { enum: ['new', 'open', 'closed'] },
        tags: { type: 'array', items: { type: 'string', maxLength: 40 }, maxItems: 20 },
        when: { type: 'string', format: 'date-time' },
      },
      required: ['id'],
    };
  for (let v = 1; v <= variant; v++) properties[`added${v}`] = { type: 'string' };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    $defs: {
      money: {
        type: 'object',
        properties: { value: { type: 'number', minimum: 0 }, currency: { enum: ['EUR', 'USD'] } },
        required: ['value', 'currency'],
      },
    },
    properties,
  };
}
