// bench/ingest in cluster mode: Portico on NATS JetStream + PostgreSQL beside Portico
// embedded (SQLite) and beside raw JetStream async publish from Node, in one run; then
// publish → consumer-group delivery latency on each. Usage:
//   npm run bench:cluster [-- --seconds 6 --batch 100]
// Needs NATS (JetStream) at 127.0.0.1:4222 and PostgreSQL at 127.0.0.1:5432 (trust): it
// uses a stream, subject prefix and database of its own and removes them at the end.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import pg from 'pg';
import { loadOrCreateDevIssuer } from '../../packages/hub/src/auth/dev-issuer.ts';
import { DEV_KEY_FILE_NAME } from '../../packages/hub/src/auth/dev-key-file.ts';
import { printTable, runLoad, type LoadResult } from '../lib/load.ts';
import { startProcess, stopProcess } from '../lib/processes.ts';
import { cpuSeconds } from '../lib/proc-cpu.ts';

/** A port nothing listens on now (other benchmarks may run on this machine too). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    batch: { type: 'string', default: '100' },
    nats: { type: 'string', default: 'nats://127.0.0.1:4222' },
    postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    'latency-events': { type: 'string', default: '300' },
    connections: { type: 'string', default: '8' },
  },
});
const seconds = Number(values.seconds);
const batchSize = Number(values.batch);
const latencyEvents = Number(values['latency-events']);
/** Batch requests in flight at once: autocannon connections, and raw publish batches. */
const inFlight = Number(values.connections);
const main = fileURLToPath(new URL('../../packages/hub/src/main.ts', import.meta.url));
const run = randomBytes(3).toString('hex');
const stream = `PORTICO_BENCH_${run}`;
const subjectPrefix = `portico_bench_${run}`;
const database = `portico_bench_${run}`;
const dir = mkdtempSync(join(tmpdir(), 'portico-bench-cluster-'));
const embeddedPort = await freePort();
const clusterPort = await freePort();

console.log(
  `bench/ingest --cluster: ${seconds}s per case, batch of ${batchSize}; hubs, NATS, PostgreSQL and the load generator share this machine's ${availableParallelism()} cores (noisy: others work on it too)`,
);

const admin = new pg.Client({ connectionString: `${values.postgres}/postgres` });
await admin.connect();
await admin.query(`create database ${database}`);
const nc = await connect({ servers: values.nats });
const jsm = await jetstreamManager(nc);

const issuer = await loadOrCreateDevIssuer(join(dir, 'keys'), { audience: 'urn:portico' });
const token = await issuer.mint({ tenant: 'bench', scopes: ['events:publish', 'events:read'] });
const headers = { authorization: `Bearer ${token}` };

function nodeDir(name: string): string {
  const dataDir = join(dir, name);
  mkdirSync(dataDir, { recursive: true });
  copyFileSync(join(dir, 'keys', DEV_KEY_FILE_NAME), join(dataDir, DEV_KEY_FILE_NAME));
  return dataDir;
}

const embeddedDir = nodeDir('embedded');
const clusterDir = nodeDir('cluster');
const clusterConfig = join(clusterDir, 'portico.config.json');
writeFileSync(
  clusterConfig,
  JSON.stringify({
    host: '127.0.0.1',
    port: clusterPort,
    dataDir: clusterDir,
    logLevel: 'warn',
    backbone: { kind: 'nats', url: values.nats, stream, subjectPrefix },
    store: { kind: 'postgres', url: `${values.postgres}/${database}`, poolSize: 10 },
  }),
);

/** Hub CPU per event in the batch case, µs (by hub label). */
const cpuPerEvent = new Map<string, number>();

const event = (id: string) =>
  `{"specversion":"1.0","id":"${id}","source":"/bench","type":"bench.order.placed","time":"2026-01-01T00:00:00Z","data":{"sku":"A-1","qty":2,"price":9.99}}`;

async function ingest(
  label: string,
  base: string,
  pid: number | undefined,
): Promise<[LoadResult, LoadResult]> {
  const url = `${base}/v1/events`;
  const single = await runLoad({
    name: `${label}: single-event publish`,
    url,
    method: 'POST',
    seconds,
    headers: { ...headers, 'content-type': 'application/cloudevents+json' },
    body: (i) => event(`${label}-s-${i}`),
  });
  const cpuBefore = cpuSeconds(pid);
  const batched = await runLoad({
    name: `${label}: batch publish (${batchSize}/request)`,
    url,
    method: 'POST',
    seconds,
    itemsPerRequest: batchSize,
    connections: inFlight,
    headers: { ...headers, 'content-type': 'application/cloudevents-batch+json' },
    body: (i) =>
      '[' +
      Array.from({ length: batchSize }, (_, k) => event(`${label}-b-${i}-${k}`)).join(',') +
      ']',
  });
  cpuPerEvent.set(label, ((cpuSeconds(pid) - cpuBefore) * 1e6) / (batched.itemsPerSec * seconds));
  return [single, batched];
}

/** Raw JetStream async publish from Node: the same bytes, batches awaited together, `inFlight` at once. */
async function rawJetStream(conn: NatsConnection, when = ''): Promise<LoadResult> {
  const rawStream = `${stream}_RAW`;
  await jsm.streams.add({
    name: rawStream,
    subjects: [`${subjectPrefix}_raw.>`],
    storage: StorageType.File,
  });
  const js = jetstream(conn);
  const payload = new TextEncoder().encode(event('x'));
  const cpuBefore = process.cpuUsage();
  let published = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async (_, w) => {
      while (performance.now() < until) {
        const first = published;
        published += batchSize;
        await Promise.all(
          Array.from({ length: batchSize }, (_, i) =>
            js.publish(`${subjectPrefix}_raw.bench.3.bench.dev.order.placed`, payload, {
              msgID: `${w}-${first + i}`,
            }),
          ),
        );
      }
    }),
  );
  const rate = Math.round(published / ((performance.now() - started) / 1000));
  const cpu = process.cpuUsage(cpuBefore);
  cpuPerEvent.set(`raw JetStream client${when}`, (cpu.user + cpu.system) / published);
  await jsm.streams.delete(rawStream);
  return {
    name: `raw JetStream async publish (${batchSize}/batch, ${inFlight} in flight)${when}`,
    requestsPerSec: Math.round(rate / batchSize),
    itemsPerSec: rate,
    p50: 0,
    p99: 0,
    errors: 0,
    non2xx: 0,
  };
}

type Latency = { name: string; p50: number; p99: number; max: number; received: number };

function summarize(name: string, samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { name, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN, received: sorted.length };
}

/** Publish one event at a time (~100/s) on the hub; a consumer-group long-poll receives it. */
async function hubLatency(label: string, base: string): Promise<Latency> {
  const json = { ...headers, 'content-type': 'application/json' };
  const group = `latency-${label}`;
  await fetch(`${base}/v1/consumer-groups/${group}`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ topic: 'bench.*.latency.>', startAt: 'end' }),
  });
  const sent = new Map<string, number>();
  const samples: number[] = [];
  let done = false;
  const consumer = (async () => {
    while (!done) {
      const response = await fetch(`${base}/v1/consumer-groups/${group}/pull`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ consumer: 'c1', max: 100, waitSeconds: 1 }),
      });
      if (!response.ok) throw new Error(`pull failed: ${response.status} ${await response.text()}`);
      const { messages } = (await response.json()) as {
        messages: Array<{ token: string; event: { id: string } }>;
      };
      const now = performance.now();
      for (const m of messages) {
        const at = sent.get(m.event.id);
        if (at !== undefined) samples.push(now - at);
      }
      if (messages.length > 0)
        await fetch(`${base}/v1/consumer-groups/${group}/ack`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ tokens: messages.map((m) => m.token) }),
        });
    }
  })();
  consumer.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  await new Promise((resolve) => setTimeout(resolve, 300)); // the consumer is waiting
  for (let i = 0; i < latencyEvents; i++) {
    const id = `${label}-lat-${i}`;
    sent.set(id, performance.now());
    await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/cloudevents+json' },
      body: `{"specversion":"1.0","id":"${id}","source":"/bench","type":"bench.latency.measured","data":{}}`,
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const deadline = performance.now() + 10_000;
  while (samples.length < latencyEvents && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  done = true;
  await consumer;
  return summarize(`${label}: HTTP publish → consumer-group pull (HTTP)`, samples);
}

/** The same on raw JetStream: publish, a durable pull consumer's `consume()` receives it. */
async function rawLatency(conn: NatsConnection): Promise<Latency> {
  const rawStream = `${stream}_LAT`;
  const subject = `${subjectPrefix}_lat.bench`;
  await jsm.streams.add({ name: rawStream, subjects: [subject], storage: StorageType.File });
  await jsm.consumers.add(rawStream, { durable_name: 'lat', ack_policy: AckPolicy.Explicit });
  const js = jetstream(conn);
  const consumer = await js.consumers.get(rawStream, 'lat');
  const messages = await consumer.consume({ max_messages: 100 });
  const sent = new Map<string, number>();
  const samples: number[] = [];
  const reading = (async () => {
    for await (const m of messages) {
      const at = sent.get(m.string());
      if (at !== undefined) samples.push(performance.now() - at);
      m.ack();
      if (samples.length >= latencyEvents) break;
    }
  })();
  for (let i = 0; i < latencyEvents; i++) {
    const id = `raw-${i}`;
    sent.set(id, performance.now());
    await js.publish(subject, id);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  await messages.close();
  await jsm.streams.delete(rawStream);
  return summarize('raw JetStream: publish → durable pull consumer', samples);
}

const rows: LoadResult[] = [];
const latencies: Latency[] = [];
try {
  const embedded = await startProcess(
    [
      main,
      'start',
      '--port',
      String(embeddedPort),
      '--host',
      '127.0.0.1',
      '--data-dir',
      embeddedDir,
    ],
    `http://127.0.0.1:${embeddedPort}/readyz`,
    { PORTICO_LOG_LEVEL: 'warn' },
  );
  try {
    rows.push(
      ...(await ingest('embedded (SQLite)', `http://127.0.0.1:${embeddedPort}`, embedded.pid)),
    );
    latencies.push(await hubLatency('embedded', `http://127.0.0.1:${embeddedPort}`));
  } finally {
    await stopProcess(embedded);
  }
  // Raw JetStream right before and right after the NATS hub's cases (the machine's load
  // drifts; the ratio uses their mean). The first raw run also warms the raw path up.
  await rawJetStream(nc, ', warm-up');
  const rawBefore = await rawJetStream(nc, ', before');
  const cluster = await startProcess(
    [main, 'start', '--config', clusterConfig],
    `http://127.0.0.1:${clusterPort}/readyz`,
    { PORTICO_NATS_URL: '', PORTICO_POSTGRES_URL: '' },
  );
  try {
    rows.push(
      ...(await ingest('NATS + PostgreSQL', `http://127.0.0.1:${clusterPort}`, cluster.pid)),
    );
    latencies.push(await hubLatency('nats', `http://127.0.0.1:${clusterPort}`));
  } finally {
    await stopProcess(cluster);
  }
  const rawAfter = await rawJetStream(nc, ', after');
  rows.push(rawBefore, rawAfter);
  latencies.push(await rawLatency(nc));
} finally {
  await jsm.streams.delete(stream).catch(() => undefined);
  await nc.close();
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}

printTable(rows, rows[0]!);
const rawRate = (rows[4]!.itemsPerSec + rows[5]!.itemsPerSec) / 2;
const natsBatch = rows[3]!;
const embeddedBatch = rows[1]!;
console.log(
  `\nPortico on NATS+PG batch ingest / raw JetStream publish = ${(natsBatch.itemsPerSec / rawRate).toFixed(2)}× of the two raw runs' mean (target ≥ 0.5×)`,
);
console.log(
  `Portico on NATS+PG batch ingest / Portico embedded = ${(natsBatch.itemsPerSec / embeddedBatch.itemsPerSec).toFixed(2)}×; single-event req/s NATS+PG / embedded = ${(rows[2]!.requestsPerSec / rows[0]!.requestsPerSec).toFixed(2)}×`,
);
console.log(
  `\nCPU per event in the batch case, µs (the process named; NATS and PostgreSQL are shared with other work and not counted): ${[
    ...cpuPerEvent,
  ]
    .map(([name, us]) => `${name} ${us.toFixed(0)}`)
    .join(' · ')}`,
);
console.log(
  '\n| end-to-end latency (one event at a time, ~70/s) | p50 ms | p99 ms | max ms | received |',
);
console.log('|---|---:|---:|---:|---:|');
for (const l of latencies)
  console.log(
    `| ${l.name} | ${l.p50.toFixed(1)} | ${l.p99.toFixed(1)} | ${l.max.toFixed(1)} | ${l.received}/${latencyEvents} |`,
  );
