// CPU cost per single-event publish (case (b) of run.ts), by hub thread, and optionally a
// CPU profile of each thread: the hub runs under autocannon's 32 connections for --seconds
// after a --warmup; its CPU time per thread (from /proc) divided by the requests it served
// is printed, with how busy the whole machine was meanwhile (all cores: hub, load generator
// and anything else; near 100 % means the rate is bound by CPU, well below it by latency).
// With --profile the hub runs with --cpu-prof (one .cpuprofile per thread, the
// event loop's and the log writer's) into --out.
// Usage: node bench/ingest/profile.ts [--seconds 8] [--warmup 4] [--profile] [--out DIR]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from '../lib/load.ts';
import { cpuByThread, cpuPerItemSince, machineCpu } from '../lib/proc-cpu.ts';
import { stopProcess } from '../lib/processes.ts';
import { benchEvent, startBenchHub } from './bench-hub.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '4' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: join(tmpdir(), 'ingest-profile') },
  },
});
const seconds = Number(values.seconds);
const dataDir = mkdtempSync(join(tmpdir(), 'portico-profile-ingest-'));
const port = 18093;
const flags = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.out}`] : [];
if (values.profile) mkdirSync(values.out, { recursive: true });

const { hub, token } = await startBenchHub({ port, dataDir, nodeFlags: flags });
try {
  const publish = (name: string, duration: number) =>
    runLoad({
      name,
      url: `http://127.0.0.1:${port}/v1/events`,
      method: 'POST',
      seconds: duration,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' },
      body: (i) => benchEvent(`${name}-${i}`),
    });
  await publish('warmup', Number(values.warmup));
  const before = cpuByThread(hub.pid);
  const machineBefore = machineCpu();
  const result = await publish('measured', seconds);
  const threads = cpuPerItemSince(hub.pid, before, result.requestsPerSec * seconds)
    .map(([name, s]) => `${name} ${(s * 1e6).toFixed(0)}`)
    .filter((line) => !line.endsWith(' 0'));
  const machineAfter = machineCpu();
  const machineBusy =
    (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
  console.log(
    `single-event publish: ${result.requestsPerSec} req/s, p99 ${result.p99} ms, non-2xx ${result.non2xx}; hub µs CPU per request by thread: ${threads.join(', ')}; machine busy ${(machineBusy * 100).toFixed(0)} % of all cores`,
  );
} finally {
  await stopProcess(hub);
  rmSync(dataDir, { recursive: true, force: true });
}
if (values.profile) console.log(`profiles written to ${values.out}`);
