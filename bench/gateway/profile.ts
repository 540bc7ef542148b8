// CPU cost per proxied request, and optionally a CPU profile: one proxy (Portico's gateway
// with the bench's JWT + rate limit + scope policy, or the @fastify/http-proxy peer) runs
// under autocannon for --seconds; its CPU time (from /proc, user + system) divided by the
// requests it served is printed. CPU per request is much steadier than req/s on a shared
// machine. With --profile, the proxy runs with --cpu-prof and the .cpuprofile lands in --out.
// With --rate N the measured seconds are a steady paced load (paced-load.ts) at N req/s
// instead of autocannon's 32 busy connections: a proxy that is not saturated handles fewer
// requests per turn of its event loop and spends more CPU on each.
// Usage: node bench/gateway/profile.ts [--target portico|fastify|nginx] [--seconds 10]
//        [--warmup 10] [--rate N] [--profile] [--out /tmp/gateway-profile]
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { pacedLoad } from './paced-load.ts';
import { cpuSeconds, startProxyUnderTest } from './proxy-under-test.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'portico' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '10' },
    rate: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: join(tmpdir(), 'gateway-profile') },
  },
});
const dataDir = mkdtempSync(join(tmpdir(), 'portico-profile-gateway-'));
const flags = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.out}`] : [];
if (values.profile) mkdirSync(values.out, { recursive: true });
const { proxy, target, stop } = await startProxyUnderTest(values.target, flags, dataDir);
try {
  // A warm-up so JIT compilation is not counted: the hub has far more code on the request
  // path than the peer, and V8 is still optimising it (hundreds of functions) well past 2 s.
  await autocannon({ ...target, connections: 32, duration: Number(values.warmup) });
  const before = cpuSeconds(proxy);
  const seconds = Number(values.seconds);
  const r = values.rate
    ? await pacedLoad({ ...target, rate: Number(values.rate), seconds }).then((p) => ({
        rps: p.ok / seconds,
        p99: p.p99,
        non2xx: p.non2xx,
        total: p.sent,
      }))
    : await autocannon({ ...target, connections: 32, duration: seconds }).then((a) => ({
        rps: a.requests.average,
        p99: a.latency.p99,
        non2xx: a.non2xx,
        total: a.requests.total,
      }));
  const cpu = cpuSeconds(proxy) - before;
  console.log(
    `${values.target}: ${Math.round(r.rps)} req/s${values.rate ? ' (paced)' : ''}, ` +
      `p99 ${r.p99} ms, non-2xx ${r.non2xx}, ` +
      `CPU ${Math.round((cpu / r.total) * 1e6)} µs per request`,
  );
} finally {
  await stop();
}
if (values.profile) console.log(`profile written to ${values.out}`);
