// bench/ingest: Fastify hello-world vs single-event and batched publish through Portico,
// and (d) the batched publish with random event ids, all driven by autocannon in the same
// run: 32 connections for (a) and (b), 8 for (c) and (d)
// (--batch-connections N to change it: on the 2-core machine of docs/benchmarks.md, 16 or 32
// gave 82k events/s against 66-73k with 8; the load generator competes for the same cores).
// Usage: npm run bench:ingest [-- --seconds 8 --batch 100 --batch-connections 8]
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { printTable, runLoad } from '../lib/load.ts';
import { cpuByThread, cpuPerItemSince } from '../lib/proc-cpu.ts';
import { startProcess, stopProcess } from '../lib/processes.ts';
import { benchEvent, startBenchHub } from './bench-hub.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    batch: { type: 'string', default: '100' },
    'batch-connections': { type: 'string', default: '8' },
  },
});
const seconds = Number(values.seconds);
const batchSize = Number(values.batch);
const batchConnections = Number(values['batch-connections']);
const hello = fileURLToPath(new URL('./hello-world.ts', import.meta.url));

const helloPort = 18081;
const hubPort = 18082;
const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-ingest-'));

console.log(
  `bench/ingest: ${seconds}s per case, 32 connections for (a) and (b), ${batchConnections} for (c) and (d), batch of ${batchSize}; server and load generator share this machine's ${(await import('node:os')).availableParallelism()} cores`,
);

const cpuLines: string[] = [];
/** Runs `load` and notes the server's CPU per item (request or event), by thread. */
async function measured(
  child: ChildProcess,
  load: () => ReturnType<typeof runLoad>,
): ReturnType<typeof runLoad> {
  const before = cpuByThread(child.pid);
  const result = await load();
  const threads = cpuPerItemSince(child.pid, before, result.itemsPerSec * seconds)
    .map(([name, s]) => [name, s * 1e6] as const)
    .filter(([, us]) => us >= 0.5);
  const total = threads.reduce((sum, [, us]) => sum + us, 0);
  cpuLines.push(
    `| ${result.name} | ${total.toFixed(0)} | ${threads.map(([name, us]) => `${name} ${us.toFixed(0)}`).join(', ')} |`,
  );
  return result;
}

const helloProcess = await startProcess(
  [hello, String(helloPort)],
  `http://127.0.0.1:${helloPort}/`,
);
const helloResult = await measured(helloProcess, () =>
  runLoad({
    name: '(a) Fastify hello-world (POST, small JSON)',
    url: `http://127.0.0.1:${helloPort}/`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: () => '{"a":1}',
    seconds,
  }),
);
await stopProcess(helloProcess);

const { hub, token } = await startBenchHub({ port: hubPort, dataDir });
try {
  const url = `http://127.0.0.1:${hubPort}/v1/events`;

  const single = await measured(hub, () =>
    runLoad({
      name: '(b) Portico single-event publish (structured)',
      url,
      method: 'POST',
      seconds,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' },
      body: (i) => benchEvent(`s-${i}`),
    }),
  );
  const batch = (name: string, id: (request: number, n: number) => string) =>
    measured(hub, () =>
      runLoad({
        name,
        url,
        method: 'POST',
        seconds,
        itemsPerRequest: batchSize,
        connections: batchConnections,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/cloudevents-batch+json',
        },
        body: (i) =>
          '[' + Array.from({ length: batchSize }, (_, k) => benchEvent(id(i, k))).join(',') + ']',
      }),
    );
  const batched = await batch(
    `(c) Portico batch publish (${batchSize} events/request)`,
    (i, k) => `b-${i}-${k}`,
  );
  // (c)'s ids rise with each request, as time-ordered ids (UUIDv7, ULID, counters) do; the
  // dedupe index then grows at its right edge. Random ids (UUIDv4) land each event on its
  // own index page: what a producer with such ids gets.
  const randomIds = await batch(`(d) as (c), random UUIDv4 event ids`, () => randomUUID());
  printTable([helloResult, single, batched, randomIds], helloResult);
  if (cpuLines.length > 0)
    console.log(
      `\nServer CPU per request ((a), (b)) or per event ((c), (d)), µs, by thread (/proc):\n| case | total | by thread |\n|---|---:|---|\n${cpuLines.join('\n')}`,
    );
  console.log(
    `\n(b)/(a) = ${(single.requestsPerSec / helloResult.requestsPerSec).toFixed(2)} (target ≥ 0.6); (c) = ${batched.itemsPerSec} durable events/s (target ≥ 100k); (d) = ${randomIds.itemsPerSec} with random ids`,
  );
} finally {
  await stopProcess(hub);
  rmSync(dataDir, { recursive: true, force: true });
}
