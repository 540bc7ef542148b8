// bench/gateway: the same upstream reached (a) directly, (n) through nginx proxy_pass,
// (b) through @fastify/http-proxy and (c) through Portico's gateway with JWT verification
// + a rate limit + a scope check; then (d) direct and (e) Portico at half of Portico's max
// rate, for the p99 latency Portico adds: (d) and (e) run a steady open-loop load
// (paced-load.ts; autocannon's own rate limit sends each second's quota at full speed and
// then idles, which measures a saturated proxy), with latency counted from when each request
// was due. Every server runs for the whole bench and is warmed up first (--warmup, 10 s
// each: the hub has far more code on its request path than the peers, and V8 is still
// optimising it, hundreds of functions, well past 2 s); the cases take turns for --rounds
// rounds (the order rotates), so a burst of load from elsewhere on the machine hits every
// case alike, and each ratio is taken within one round. nginx runs when it is installed (`command -v nginx`), else it is skipped.
// Usage: npm run bench:gateway [-- --seconds 5 --rounds 3 --warmup 10]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startProcess, stopProcess } from '../lib/processes.ts';
import { pacedLoad } from './paced-load.ts';
import { API_PATH, definePorticoApi, PORTS, startPortico } from './portico-setup.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '10' },
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
type Row = { rps: number; p50: number; p99: number; errors: number; non2xx: number; cpuUs: number };

/** user + system CPU seconds of some processes so far (Linux /proc, 1/100 s ticks). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / 100;
}

/** A process and its children (nginx's master and its worker). */
function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...children.split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}

async function load(target: Target, duration: number, rate?: number): Promise<Row> {
  const pids = target.pids();
  const before = cpuSeconds(pids);
  const cpuUs = (served: number) =>
    pids.length > 0 ? Math.round(((cpuSeconds(pids) - before) / served) * 1e6) : 0;
  if (rate) {
    const r = await pacedLoad({ ...target, rate, seconds: duration, connections: 16 });
    return {
      rps: Math.round(r.ok / duration),
      p50: r.p50,
      p99: r.p99,
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

function nginxBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v nginx']).toString().trim();
  } catch {
    return '';
  }
}

/** nginx in front of the upstream: keep-alive pool, HTTP/1.1, one worker like one Node process. */
async function startNginx(bin: string): Promise<ChildProcess> {
  const prefix = join(dataDir, 'nginx');
  execFileSync('mkdir', ['-p', join(prefix, 'logs')]);
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  upstream up { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${PORTS.nginx};
    location /api/orders/v1/ {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://up/;
    }
    location = /ready { return 200 "ok"; }
  }
}
`,
  );
  const child = spawn(bin, ['-p', prefix, '-c', conf, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const up = await fetch(`http://127.0.0.1:${PORTS.nginx}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`nginx did not start; see ${prefix}/logs/error.log`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

console.log(
  `bench/gateway: GET of a small JSON, ${seconds}s per case, 32 connections, ${rounds} rounds ` +
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
    const nginx = await startNginx(bin);
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
  const atHalf = { d: [] as Row[], e: [] as Row[] };
  for (let round = 0; round < rounds; round++) {
    const pair: ['d' | 'e', Target][] = [
      ['d', byKey('a')!],
      ['e', byKey('c')!],
    ];
    if (round % 2) pair.reverse();
    for (const [k, t] of pair) atHalf[k].push(await load(t, seconds, half));
  }

  console.log('\n| case | round | req/s | p50 ms | p99 ms | proxy CPU µs/req | errors / non-2xx |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const print = (name: string, rows: Row[]) =>
    rows.forEach((r, i) =>
      console.log(
        `| ${name} | ${i + 1} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.cpuUs || '—'} | ${r.errors} / ${r.non2xx} |`,
      ),
    );
  for (const t of targets) print(t.name, results.get(t.key)!);
  print(`(d) direct at ${half} req/s, paced`, atHalf.d);
  print(`(e) Portico at ${half} req/s, paced`, atHalf.e);

  const ratio = (k: string) =>
    results.has(k) ? results.get('c')!.map((c, i) => c.rps / results.get(k)![i]!.rps) : undefined;
  const show = (xs: number[]) =>
    `${xs.map((x) => x.toFixed(2)).join(' / ')} (median ${median(xs).toFixed(2)})`;
  const vsFastify = ratio('b')!;
  const vsNginx = ratio('n');
  const added = atHalf.e.map((e, i) => Math.round((e.p99 - atHalf.d[i]!.p99) * 100) / 100);
  console.log(
    `\nper round: (c)/(b) = ${show(vsFastify)}, target ≥ 1.0` +
      `\n           (c)/(n) = ${vsNginx ? `${show(vsNginx)}, target ≥ 0.5` : 'nginx not run'}` +
      `\n           (c)/(a) = ${show(ratio('a')!)}` +
      `\n           p99 added at ${half} req/s (half of Portico's median max, steady paced load) = ` +
      `${added.join(' / ')} ms (median ${median(added)} ms), target ≤ 2 ms` +
      `\nload average at end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
} finally {
  for (const p of processes.reverse()) await stopProcess(p);
  rmSync(dataDir, { recursive: true, force: true });
}
