// Where the gateway's latency tail comes from: Portico (or the @fastify/http-proxy peer)
// under a fixed request rate, with the direct upstream at the same rate for comparison, and
// the proxy's event-loop delay and GC pauses over the same seconds (bench/gateway/stalls.ts,
// preloaded). A p99 far above the loop delay points at queueing or the network path; a loop
// delay near the p99 points at something blocking the loop (GC, a timer, synchronous work).
// --generator autocannon uses autocannon's overallRate instead of the steady paced load
// (paced-load.ts), to show what its bursts do to the same figures.
// Usage: node bench/gateway/tail.ts [--target portico|fastify] [--rate 3700] [--seconds 5]
//        [--generator paced|autocannon] [--node-flags=--single-threaded-gc]
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { pacedLoad } from './paced-load.ts';
import { cpuSeconds, startProxyUnderTest } from './proxy-under-test.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'portico' },
    rate: { type: 'string', default: '3700' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    generator: { type: 'string', default: 'paced' },
    'node-flags': { type: 'string', default: '' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const dataDir = mkdtempSync(join(tmpdir(), 'portico-tail-gateway-'));
const here = (f: string) => new URL(f, import.meta.url).pathname;
const flags = [
  '--import',
  here('./stalls.ts'),
  ...values['node-flags'].split(/\s+/).filter(Boolean),
];
const { upstream, proxy, target, stop } = await startProxyUnderTest(values.target, flags, dataDir);
// The stalls line comes on the proxy's stderr, which the bench processes inherit: it is
// printed as it comes, between the rows below.
/** Latency at the fixed rate with the chosen generator. */
async function atRate(t: { url: string; headers: Record<string, string> }) {
  if (values.generator === 'autocannon') {
    const r = await autocannon({ ...t, connections: 16, duration: seconds, overallRate: rate });
    return {
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      non2xx: r.non2xx,
      total: r.requests.total,
    };
  }
  const r = await pacedLoad({ ...t, rate, seconds, connections: 16 });
  return { rps: Math.round(r.ok / seconds), ...r, total: r.sent };
}

async function stalls(): Promise<void> {
  proxy.kill('SIGUSR2');
  await sleep(200);
}
try {
  console.log(
    `bench/gateway/tail: ${values.target} at ${rate} req/s (${values.generator}), ` +
      `16 connections, ${seconds}s; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  // JIT warm-up (see run.ts).
  await autocannon({ ...target, connections: 32, duration: 10 });
  const direct = { url: `${upstream}/orders/o-1`, headers: {} };
  for (let round = 1; round <= Number(values.rounds); round++) {
    const d = await atRate(direct);
    console.log(`direct  round ${round}: p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms`);
    await stalls();
    const before = cpuSeconds(proxy);
    const r = await atRate(target);
    const cpu = cpuSeconds(proxy) - before;
    console.log(
      `${values.target} round ${round}: ${r.rps} req/s, p50 ${r.p50} ms, ` +
        `p99 ${r.p99} ms, max ${r.max} ms, non-2xx ${r.non2xx}, ` +
        `CPU ${Math.round((cpu / r.total) * 1e6)} µs/req (${Math.round((cpu / seconds) * 100)}% of a core)`,
    );
    await stalls();
  }
} finally {
  await stop();
}
