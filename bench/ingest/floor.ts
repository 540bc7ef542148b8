// The floor under case (b) of run.ts: how far below peer (a) a server gets that does only a
// part of a single-event publish, in one run (rounds alternate the servers). From
// floor-server.ts: the CloudEvent POST parsed and answered (Fastify, bare node:http), then
// the same with the hub's own embedded log appending each event before the 202; then the
// hub itself (case (b)). The gap between a row and the one before it is what that part
// costs; req/s is shown against (a), CPU per request by thread from /proc.
// Usage: node bench/ingest/floor.ts [--seconds 8] [--warmup 3] [--rounds 1]
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad, type LoadResult } from '../lib/load.ts';
import { cpuByThread, cpuPerItemSince } from '../lib/proc-cpu.ts';
import { startProcess, stopProcess } from '../lib/processes.ts';
import { benchEvent, startBenchHub } from './bench-hub.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const port = 18095;
const script = (name: string) => fileURLToPath(new URL(name, import.meta.url));

type Case = {
  name: string;
  start: (dataDir: string) => Promise<{ child: ChildProcess; headers: Record<string, string> }>;
  /** (a) posts hello-world's small JSON; the others a CloudEvent as case (b) does. */
  hello?: boolean;
};
const floorServer =
  (variant: string): Case['start'] =>
  async (dataDir) => ({
    child: await startProcess(
      [script('./floor-server.ts'), variant, String(port), dataDir],
      `http://127.0.0.1:${port}/`,
    ),
    headers: { 'content-type': 'application/cloudevents+json' },
  });
const cases: Case[] = [
  {
    name: '(a) Fastify hello-world',
    hello: true,
    start: async () => ({
      child: await startProcess(
        [script('./hello-world.ts'), String(port)],
        `http://127.0.0.1:${port}/`,
      ),
      headers: { 'content-type': 'application/json' },
    }),
  },
  { name: 'Fastify: CloudEvent parsed, 202', start: floorServer('fastify-post') },
  { name: 'node:http: CloudEvent parsed, 202', start: floorServer('http-post') },
  { name: 'Fastify + embedded log append', start: floorServer('fastify-durable') },
  { name: 'node:http + embedded log append', start: floorServer('http-durable') },
  {
    name: '(b) Portico single-event publish',
    start: async (dataDir) => {
      const { hub, token } = await startBenchHub({ port, dataDir });
      return {
        child: hub,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/cloudevents+json',
        },
      };
    },
  },
];

console.log(
  `bench/ingest/floor: ${seconds}s per case after ${values.warmup}s of warm-up, 32 connections, ${values.rounds} round(s)`,
);
const rows: string[] = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  let baseline: LoadResult | undefined;
  for (const c of cases) {
    const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-floor-'));
    const { child, headers } = await c.start(dataDir);
    try {
      const load = (name: string, duration: number) =>
        runLoad({
          name,
          url: `http://127.0.0.1:${port}/${c.name.startsWith('(b)') ? 'v1/events' : ''}`,
          method: 'POST',
          headers,
          body: c.hello ? () => '{"a":1}' : (i) => benchEvent(`${name}-${round}-${i}`),
          seconds: duration,
        });
      await load('warmup', Number(values.warmup));
      const before = cpuByThread(child.pid);
      const result = await load(c.name, seconds);
      baseline ??= result;
      const threads = cpuPerItemSince(child.pid, before, result.requestsPerSec * seconds)
        .map(([name, s]) => [name, s * 1e6] as const)
        .filter(([, us]) => us >= 0.5);
      const total = threads.reduce((sum, [, us]) => sum + us, 0);
      const row = `| ${round} | ${c.name} | ${result.requestsPerSec.toLocaleString('en')} | ${(result.requestsPerSec / baseline.requestsPerSec).toFixed(2)} | ${result.p99} | ${total.toFixed(0)}: ${threads.map(([name, us]) => `${name} ${us.toFixed(0)}`).join(', ')} | ${result.non2xx} |`;
      console.log(row);
      rows.push(row);
    } finally {
      await stopProcess(child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}
console.log(
  '\n| round | case | req/s | × (a) | p99 ms | server µs CPU per request, by thread | non-2xx |',
);
console.log('| ---: | --- | ---: | ---: | ---: | --- | ---: |');
for (const row of rows) console.log(row);
