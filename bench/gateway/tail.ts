// Where the gateway's latency tail comes from: Portico (or the @fastify/http-proxy peer, or
// nginx) under a fixed request rate, with the direct upstream at the same rate for
// comparison, and for the same seconds: the proxy's event-loop delay and GC pauses
// (bench/gateway/stalls.ts, preloaded; Node targets only), the generator's own release lag
// (paced-load.ts: due → release by its 1 ms timer) and latency counted from release, and
// how long each process's threads waited for a CPU (the kernel's run-queue wait from
// /proc/<pid>/task/<tid>/schedstat), with the host's steal time. A p99 far above the loop
// delay with long run-queue waits points at CPU contention (upstream, proxy and generator
// share the machine's cores); a loop delay near the p99 points at something blocking the
// loop (GC, a timer, synchronous work).
// --nice=N (e.g. --nice=-10, as root) runs the generator, the upstream and the proxy (all
// their threads; nginx's worker) at that nice level, ahead of whatever else runs on the
// machine: the same for every target, to tell the tail this machine's other work causes
// from the bench's own.
// --generator autocannon uses autocannon's overallRate instead of the steady paced load
// (paced-load.ts), to show what its bursts do to the same figures.
// Usage: node bench/gateway/tail.ts [--target portico|fastify|nginx] [--rate 3700]
//        [--seconds 5] [--rounds 2] [--generator paced|autocannon] [--nice=-10]
//        [--node-flags=--single-threaded-gc] [--connections 64] [--settle 0]
//        --settle N: N seconds at the rate before each measured load, not recorded.
//        --rate 1000,2000,4000 runs each rate in turn.
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { withChildren } from './nginx.ts';
import { PACED_CONNECTIONS, pacedLoad } from './paced-load.ts';
import { cpuSeconds, startProxyUnderTest } from './proxy-under-test.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'portico' },
    rate: { type: 'string', default: '3700' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    generator: { type: 'string', default: 'paced' },
    'node-flags': { type: 'string', default: '' },
    nice: { type: 'string' },
    connections: { type: 'string', default: String(PACED_CONNECTIONS) },
    settle: { type: 'string', default: '0' },
  },
});
/** One or more rates (comma-separated), each run for --rounds rounds, in the order given. */
const rates = values.rate.split(',').map(Number);
let rate = rates[0]!;
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const isNode = values.target !== 'nginx';
const dataDir = mkdtempSync(join(tmpdir(), 'portico-tail-gateway-'));
const here = (f: string) => new URL(f, import.meta.url).pathname;
const flags = isNode
  ? ['--import', here('./stalls.ts'), ...values['node-flags'].split(/\s+/).filter(Boolean)]
  : [];
const { upstream, upstreamProcess, proxy, target, stop } = await startProxyUnderTest(
  values.target,
  flags,
  dataDir,
);
// Every thread (nice is per thread on Linux): V8's GC helpers too, which a scavenge waits for.
if (values.nice !== undefined)
  for (const pid of [process.pid, upstreamProcess.pid!, ...withChildren(proxy.pid!)])
    for (const tid of readdirSync(`/proc/${pid}/task`))
      setPriority(Number(tid), Number(values.nice));
// The stalls line comes on the proxy's stderr, which the bench processes inherit: it is
// printed as it comes, between the rows below.
/** Latency at the fixed rate with the chosen generator. */
async function atRate(t: { url: string; headers: Record<string, string> }) {
  if (values.generator === 'autocannon') {
    const r = await autocannon({ ...t, connections, duration: seconds, overallRate: rate });
    return {
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      non2xx: r.non2xx,
      total: r.requests.total,
      extra: '',
    };
  }
  const r = await pacedLoad({
    ...t,
    rate,
    seconds,
    connections,
    settleSeconds: Number(values.settle),
  });
  const extra =
    `; from release p50 ${r.released.p50} p99 ${r.released.p99} ms; ` +
    `waiting for a connection p99 ${r.connectionWait.p99} max ${r.connectionWait.max} ms; ` +
    `generator lag p50 ${r.lag.p50} p99 ${r.lag.p99} max ${r.lag.max} ms`;
  return { rps: Math.round(r.ok / seconds), ...r, total: r.sent, extra };
}

/** Nanoseconds the threads of some processes spent waiting on a run queue, so far. */
function runQueueWaitNs(pids: number[]): number {
  let ns = 0;
  for (const pid of pids)
    for (const tid of readdirSync(`/proc/${pid}/task`, { withFileTypes: false }))
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
      } catch {
        // the thread exited
      }
  return ns;
}
/** Steal time of the whole VM so far, in clock ticks (1/100 s). */
function stealTicks(): number {
  return Number(readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/)[8]);
}
const groups = {
  proxy: () => withChildren(proxy.pid!),
  upstream: () => [upstreamProcess.pid!],
  generator: () => [process.pid],
};
/** Runs `work`, then prints the run-queue wait per request of each process group. */
async function withWaits<T extends { total: number }>(work: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(
    Object.entries(groups).map(([k, g]) => [k, runQueueWaitNs(g())]),
  );
  const steal = stealTicks();
  const r = await work();
  const waits = Object.entries(groups).map(
    ([k, g]) => `${k} ${((runQueueWaitNs(g()) - before[k]!) / r.total / 1000).toFixed(1)}`,
  );
  console.log(
    `        run-queue wait µs/request: ${waits.join(', ')}; VM steal ${(stealTicks() - steal) * 10} ms`,
  );
  return r;
}

async function stalls(): Promise<void> {
  if (!isNode) return; // SIGUSR2 would ask nginx to upgrade its binary
  proxy.kill('SIGUSR2');
  await sleep(200);
}
try {
  console.log(
    `bench/gateway/tail: ${values.target} at ${rates.join(', ')} req/s (${values.generator}), ` +
      `${connections} connections, ${seconds}s${values.nice ? `, nice ${values.nice}` : ''}; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  // JIT warm-up (see run.ts).
  await autocannon({ ...target, connections: 32, duration: 10 });
  const direct = { url: `${upstream}/orders/o-1`, headers: {} };
  for (const round of rates.flatMap((r) =>
    Array.from({ length: Number(values.rounds) }, (_, j) => [r, j + 1] as const),
  )) {
    rate = round[0];
    if (round[1] === 1) console.log(`-- ${rate} req/s`);
    const d = await withWaits(() => atRate(direct));
    console.log(
      `direct  round ${round[1]}: p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms${d.extra}`,
    );
    await stalls();
    const before = cpuSeconds(proxy);
    const r = await withWaits(() => atRate(target));
    const cpu = cpuSeconds(proxy) - before;
    console.log(
      `${values.target} round ${round[1]}: ${r.rps} req/s, p50 ${r.p50} ms, ` +
        `p99 ${r.p99} ms, max ${r.max} ms, non-2xx ${r.non2xx}, ` +
        `CPU ${Math.round((cpu / r.total) * 1e6)} µs/req (${Math.round((cpu / (seconds + Number(values.settle))) * 100)}% of a core)${r.extra}`,
    );
    await stalls();
  }
  console.log(
    `load average at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await stop();
}
