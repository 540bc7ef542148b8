// bench/ingest: Fastify hello-world vs single-event and batched publish through Portico,
// all driven by autocannon in the same run. Usage: npm run bench:ingest [-- --seconds 8]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadOrCreateDevIssuer } from '../../packages/hub/src/auth/dev-issuer.ts';
import { printTable, runLoad } from '../lib/load.ts';
import { startProcess, stopProcess } from '../lib/processes.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '8' }, batch: { type: 'string', default: '100' } },
});
const seconds = Number(values.seconds);
const batchSize = Number(values.batch);
const main = fileURLToPath(new URL('../../packages/hub/src/main.ts', import.meta.url));
const hello = fileURLToPath(new URL('./hello-world.ts', import.meta.url));

const helloPort = 18081;
const hubPort = 18082;
const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-ingest-'));

console.log(
  `bench/ingest: ${seconds}s per case, 32 connections, batch of ${batchSize}; server and load generator share this machine's ${(await import('node:os')).availableParallelism()} cores`,
);

const helloProcess = await startProcess(
  [hello, String(helloPort)],
  `http://127.0.0.1:${helloPort}/`,
);
const helloResult = await runLoad({
  name: '(a) Fastify hello-world (POST, small JSON)',
  url: `http://127.0.0.1:${helloPort}/`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: () => '{"a":1}',
  seconds,
});
await stopProcess(helloProcess);

const hub = await startProcess(
  [main, 'start', '--port', String(hubPort), '--host', '127.0.0.1', '--data-dir', dataDir],
  `http://127.0.0.1:${hubPort}/readyz`,
  { PORTICO_LOG_LEVEL: 'warn' },
);
try {
  const token = await (
    await loadOrCreateDevIssuer(dataDir, { audience: 'urn:portico' })
  ).mint({ tenant: 'bench', scopes: ['events:publish'] });
  const url = `http://127.0.0.1:${hubPort}/v1/events`;
  const event = (id: string) =>
    `{"specversion":"1.0","id":"${id}","source":"/bench","type":"bench.order.placed","time":"2026-01-01T00:00:00Z","data":{"sku":"A-1","qty":2,"price":9.99}}`;

  const single = await runLoad({
    name: '(b) Portico single-event publish (structured)',
    url,
    method: 'POST',
    seconds,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' },
    body: (i) => event(`s-${i}`),
  });
  const batched = await runLoad({
    name: `(c) Portico batch publish (${batchSize} events/request)`,
    url,
    method: 'POST',
    seconds,
    itemsPerRequest: batchSize,
    connections: 8,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/cloudevents-batch+json',
    },
    body: (i) =>
      '[' + Array.from({ length: batchSize }, (_, k) => event(`b-${i}-${k}`)).join(',') + ']',
  });
  printTable([helloResult, single, batched], helloResult);
  console.log(
    `\n(b)/(a) = ${(single.requestsPerSec / helloResult.requestsPerSec).toFixed(2)} (target ≥ 0.6); (c) = ${batched.itemsPerSec} durable events/s (target ≥ 100k)`,
  );
} finally {
  await stopProcess(hub);
  rmSync(dataDir, { recursive: true, force: true });
}
