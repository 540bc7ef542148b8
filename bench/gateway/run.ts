// bench/gateway: the same upstream reached (a) directly, (n) through nginx proxy_pass,
// (b) through @fastify/http-proxy and (c) through Portico's gateway with JWT verification
// + a rate limit + a scope check; then (d) direct, (e) Portico, (f) nginx and (g)
// @fastify/http-proxy at half of Portico's max rate, for the p99 latency Portico adds (and,
// for scale, what nginx and the Node peer add at the same rate on this machine): these run
// a steady open-loop load (paced-load.ts; autocannon's own rate limit sends each second's
// quota at full speed and then idles, which measures a saturated proxy), with latency
// counted from when each request was due, and
// also from its release by the generator's 1 ms timer (the generator's own lag left out;
// the same for every case). Every server runs for the whole bench and is warmed up first
// (--warmup, 10 s each: the hub has far more code on its request path than the peers, and
// V8 is still optimising it, hundreds of functions, well past 2 s); the cases take turns
// for --rounds rounds (the order rotates), so a burst of load from elsewhere on the machine
// hits every case alike, and each ratio is taken within one round. nginx runs when it is
// installed (`command -v nginx`), else it and (f) are skipped.
// Each paced load runs --settle seconds (default 1) at its rate before the measured ones,
// unrecorded, as wrk2 discards its calibration: a server that sat idle during its peers'
// turns starts slow (fresh client connections, cold caches) and the step from idle to the
// full rate is not the steady state the p99 target is about.
// Usage: npm run bench:gateway [-- --seconds 5 --rounds 3 --warmup 10 --settle 1]
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startProcess, stopProcess } from '../lib/processes.ts';
import { cpuSecondsOfAll } from '../lib/proc-cpu.ts';
import { nginxBinary, startNginx, withChildren } from './nginx.ts';
import { PACED_CONNECTIONS, pacedLoad } from './paced-load.ts';
import { API_PATH, definePorticoApi, PORTS, startPortico } from './portico-setup.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '10' },
    settle: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const here = (f: string) => new URL(f, import.meta.url).pathname;
const upstream = `http://127.0.0.1:${PORTS.upstream}`;
const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-gateway-'));

type Target = {
  key: string;
  name: string;
  url: string;
  headers: Record<string, string>;
  /** Processes whose CPU time is the proxy's (none for the direct case). */
  pids: () => number[];
};
type Row = {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  cpuUs: number;
  /** Paced loads: p99 from each request's release, without the generator's timer lag. */
  releasedP99?: number;
  /** Paced loads: p99 wait for an idle connection (near 0: the pool was not the queue). */
  connectionWaitP99?: number;
};

async function load(target: Target, duration: number, rate?: number): Promise<Row> {
  const pids = target.pids();
  const before = cpuSecondsOfAll(pids);
  const cpuUs = (served: number) =>
    pids.length > 0 ? Math.round(((cpuSecondsOfAll(pids) - before) / served) * 1e6) : 0;
  if (rate) {
    const r = await pacedLoad({
      ...target,
      rate,
      seconds: duration,
      settleSeconds: Number(values.settle),
    });
    return {
      rps: Math.round(r.ok / duration),
      p50: r.p50,
      p99: r.p99,
      releasedP99: r.released.p99,
      connectionWaitP99: r.connectionWait.p99,
      errors: r.errors,
      non2xx: r.non2xx,
      cpuUs: cpuUs(r.sent),
    };
  }
  const r = await autocannon({
    url: target.url,
    headers: target.headers,
    connections: 32,
    pipelining: 1,
    duration,
  });
  const served = r.requests.total;
  return {
    rps: Math.round((served - r.non2xx) / r.duration),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    cpuUs: cpuUs(served),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

console.log(
  `bench/gateway: GET of a small JSON, ${seconds}s per case, 32 connections ` +
    `(${PACED_CONNECTIONS} for the paced loads), ${rounds} rounds ` +
    `(order rotating), ${values.warmup}s warm-up per server; upstream, proxies and load ` +
    `generator share this machine's ${availableParallelism()} cores; load average at start ` +
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' '),
);
const processes: ChildProcess[] = [];
try {
  const up = await startProcess([here('./upstream.ts'), String(PORTS.upstream)], `${upstream}/`);
  processes.push(up);
  const targets: Target[] = [
    {
      key: 'a',
      name: '(a) direct to upstream (the limit)',
      url: `${upstream}/orders/o-1`,
      headers: {},
      pids: () => [],
    },
  ];
  const bin = nginxBinary();
  if (bin && existsSync(bin)) {
    const nginx = await startNginx(bin, dataDir);
    processes.push(nginx);
    targets.push({
      key: 'n',
      name: '(n) nginx proxy_pass',
      url: `http://127.0.0.1:${PORTS.nginx}${API_PATH}`,
      headers: {},
      pids: () => withChildren(nginx.pid!),
    });
  } else console.log('nginx is not installed here (`apt-get install nginx`): its case is skipped');

  const fastify = await startProcess(
    [here('./fastify-proxy.ts'), String(PORTS.fastify), upstream],
    `http://127.0.0.1:${PORTS.fastify}/ready`,
  );
  processes.push(fastify);
  targets.push({
    key: 'b',
    name: '(b) @fastify/http-proxy',
    url: `http://127.0.0.1:${PORTS.fastify}${API_PATH}`,
    headers: {},
    pids: () => [fastify.pid!],
  });

  const hub = await startPortico(dataDir);
  processes.push(hub);
  const portico = await definePorticoApi(dataDir, upstream);
  targets.push({
    key: 'c',
    name: '(c) Portico: JWT + rate limit + scope',
    ...portico,
    pids: () => [hub.pid!],
  });

  for (const t of targets) await load(t, Number(values.warmup));

  const results = new Map<string, Row[]>(targets.map((t) => [t.key, []]));
  for (let round = 0; round < rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const t of order) results.get(t.key)!.push(await load(t, seconds));
  }

  const byKey = (k: string) => targets.find((t) => t.key === k);
  const half = Math.max(1, Math.round(median(results.get('c')!.map((r) => r.rps)) / 2));
  // (f): nginx at the same rate, when it runs: what a proxy at ~15-40 µs per request adds
  // on this machine at that rate (the floor the ≤ 2 ms target meets here); (g): the
  // @fastify/http-proxy peer at the same rate, what a Node proxy adds here.
  const atHalf = { d: [] as Row[], e: [] as Row[], f: [] as Row[], g: [] as Row[] };
  for (let round = 0; round < rounds; round++) {
    const cases: ['d' | 'e' | 'f' | 'g', Target][] = [
      ['d', byKey('a')!],
      ['e', byKey('c')!],
      ['g', byKey('b')!],
    ];
    if (byKey('n')) cases.push(['f', byKey('n')!]);
    const order = cases.map((_, i) => cases[(i + round) % cases.length]!);
    for (const [k, t] of order) atHalf[k].push(await load(t, seconds, half));
  }

  console.log(
    '\n| case | round | req/s | p50 ms | p99 ms | p99 wait for a connection ms | proxy CPU µs/req | errors / non-2xx |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  const print = (name: string, rows: Row[]) =>
    rows.forEach((r, i) =>
      console.log(
        `| ${name} | ${i + 1} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.connectionWaitP99 ?? '—'} | ${r.cpuUs || '—'} | ${r.errors} / ${r.non2xx} |`,
      ),
    );
  for (const t of targets) print(t.name, results.get(t.key)!);
  print(`(d) direct at ${half} req/s, paced`, atHalf.d);
  print(`(e) Portico at ${half} req/s, paced`, atHalf.e);
  if (atHalf.f.length > 0) print(`(f) nginx at ${half} req/s, paced`, atHalf.f);
  print(`(g) @fastify/http-proxy at ${half} req/s, paced`, atHalf.g);

  const ratio = (k: string) =>
    results.has(k) ? results.get('c')!.map((c, i) => c.rps / results.get(k)![i]!.rps) : undefined;
  const show = (xs: number[]) =>
    `${xs.map((x) => x.toFixed(2)).join(' / ')} (median ${median(xs).toFixed(2)})`;
  const vsFastify = ratio('b')!;
  const vsNginx = ratio('n');
  const addedBy = (rows: Row[], p99: (r: Row) => number) =>
    rows.map((r, i) => Math.round((p99(r) - p99(atHalf.d[i]!)) * 100) / 100);
  const added = addedBy(atHalf.e, (r) => r.p99);
  const addedFromRelease = addedBy(atHalf.e, (r) => r.releasedP99!);
  const nginxAdded = addedBy(atHalf.f, (r) => r.p99);
  const peerAdded = addedBy(atHalf.g, (r) => r.p99);
  console.log(
    `\nper round: (c)/(b) = ${show(vsFastify)}, target ≥ 1.0` +
      `\n           (c)/(n) = ${vsNginx ? `${show(vsNginx)}, target ≥ 0.5` : 'nginx not run'}` +
      `\n           (c)/(a) = ${show(ratio('a')!)}` +
      `\n           p99 added at ${half} req/s (half of Portico's median max, steady paced load) = ` +
      `${added.join(' / ')} ms (median ${median(added).toFixed(2)} ms), target ≤ 2 ms` +
      `\n           the same from each request's release (no generator timer lag) = ` +
      `${addedFromRelease.join(' / ')} ms (median ${median(addedFromRelease).toFixed(2)} ms)` +
      (nginxAdded.length > 0
        ? `\n           p99 nginx adds at the same rate = ${nginxAdded.join(' / ')} ms ` +
          `(median ${median(nginxAdded).toFixed(2)} ms)`
        : '') +
      `\n           p99 @fastify/http-proxy adds at the same rate = ${peerAdded.join(' / ')} ms ` +
      `(median ${median(peerAdded).toFixed(2)} ms)` +
      `\nload average at end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
} finally {
  // processes[0] is the upstream, stopped first: the hub does not exit while its idle
  // keep-alive connections to the upstream are open (the upstream's 60 s keep-alive timeout).
  for (const p of processes) await stopProcess(p);
  rmSync(dataDir, { recursive: true, force: true });
}
