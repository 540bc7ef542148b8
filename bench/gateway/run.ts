// bench/gateway: the same upstream reached (a) directly, (b) through @fastify/http-proxy,
// (c) through Portico's gateway with JWT verification + a rate limit + a scope check, then
// (d) direct and (e) Portico at half of Portico's max rate, for the latency Portico adds.
// nginx is run only when it is installed (`command -v nginx`).
// Usage: npm run bench:gateway [-- --seconds 6]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadOrCreateDevIssuer } from '../../packages/hub/src/auth/dev-issuer.ts';
import { startProcess, stopProcess } from '../lib/processes.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '6' } } });
const seconds = Number(values.seconds);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const main = here('../../packages/hub/src/main.ts');
// A range no other bench uses (they run concurrently on this machine).
const ports = { upstream: 18291, fastify: 18292, portico: 18293, nginx: 18294 };
const upstream = `http://127.0.0.1:${ports.upstream}`;
const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-gateway-'));
const PATH = '/api/orders/v1/orders/o-1';

type Row = { name: string; rps: number; p50: number; p99: number; errors: number; non2xx: number };

async function load(
  name: string,
  url: string,
  headers: Record<string, string> = {},
  rate?: number,
): Promise<Row> {
  const r = await autocannon({
    url,
    headers,
    connections: rate ? 16 : 32,
    pipelining: 1,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
  });
  return {
    name,
    rps: Math.round((r.requests.total - r.non2xx) / r.duration),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
}

console.log(
  `bench/gateway: ${seconds}s per case, 32 connections, GET of a small JSON; upstream, proxies and load generator share this machine's ${availableParallelism()} cores (other work is running: noisy)`,
);
const processes = [
  await startProcess([here('./upstream.ts'), String(ports.upstream)], `${upstream}/`),
];
const rows: Row[] = [];
try {
  rows.push(await load('(a) direct to upstream (the limit)', `${upstream}/orders/o-1`));

  let nginx: ReturnType<typeof spawn> | undefined;
  const nginxBin = (() => {
    try {
      return execFileSync('sh', ['-c', 'command -v nginx']).toString().trim();
    } catch {
      return '';
    }
  })();
  if (nginxBin) {
    const conf = join(dataDir, 'nginx.conf');
    writeFileSync(
      conf,
      `worker_processes 1; daemon off; pid ${dataDir}/nginx.pid; error_log /dev/null;
events { worker_connections 1024; }
http { access_log off; upstream up { server 127.0.0.1:${ports.upstream}; keepalive 64; }
  server { listen 127.0.0.1:${ports.nginx}; location /api/orders/v1/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://up/; } } }`,
    );
    nginx = spawn(nginxBin, ['-c', conf, '-p', dataDir], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    rows.push(await load('(n) nginx proxy_pass', `http://127.0.0.1:${ports.nginx}${PATH}`));
    nginx.kill('SIGTERM');
  } else console.log('nginx is not installed here: the nginx case is skipped');

  processes.push(
    await startProcess(
      [here('./fastify-proxy.ts'), String(ports.fastify), upstream],
      `http://127.0.0.1:${ports.fastify}/ready`,
    ),
  );
  rows.push(await load('(b) @fastify/http-proxy', `http://127.0.0.1:${ports.fastify}${PATH}`));
  await stopProcess(processes.pop()!);

  const config = join(dataDir, 'portico.config.json');
  writeFileSync(
    config,
    JSON.stringify({ gateway: { upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] } } }),
  );
  processes.push(
    await startProcess(
      [
        main,
        'start',
        '--port',
        String(ports.portico),
        '--host',
        '127.0.0.1',
        '--data-dir',
        dataDir,
        '--config',
        config,
      ],
      `http://127.0.0.1:${ports.portico}/readyz`,
      { PORTICO_LOG_LEVEL: 'warn' },
    ),
  );
  const issuer = await loadOrCreateDevIssuer(dataDir, { audience: 'urn:portico' });
  const admin = await issuer.mint({ tenant: 'bench', scopes: ['dictionary:write'] });
  const put = await fetch(`http://127.0.0.1:${ports.portico}/v1/dictionary/apis/orders`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      domain: 'commerce',
      versions: [
        {
          version: 'v1',
          upstream,
          // Checked on every request, never hit: the cost of checking is what is measured.
          policy: {
            scopes: ['events:read'],
            rateLimit: { tenant: { burst: 1e6, perSecond: 1e6 } },
          },
        },
      ],
    }),
  });
  if (!put.ok) throw new Error(`defining the API failed: ${put.status} ${await put.text()}`);
  const token = await issuer.mint({ tenant: 'bench', scopes: ['events:read'] });
  const auth = { authorization: `Bearer ${token}` };
  const portico = await load(
    '(c) Portico: JWT + rate limit + scope',
    `http://127.0.0.1:${ports.portico}${PATH}`,
    auth,
  );
  rows.push(portico);

  const half = Math.max(1, Math.round(portico.rps / 2));
  const directHalf = await load(`(d) direct at ${half} req/s`, `${upstream}/orders/o-1`, {}, half);
  const porticoHalf = await load(
    `(e) Portico at ${half} req/s`,
    `http://127.0.0.1:${ports.portico}${PATH}`,
    auth,
    half,
  );
  rows.push(directHalf, porticoHalf);

  const fastify = rows.find((r) => r.name.startsWith('(b)'))!;
  console.log('\n| case | req/s | p50 ms | p99 ms | errors / non-2xx |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} / ${r.non2xx} |`);
  const nginxRow = rows.find((r) => r.name.startsWith('(n)'));
  console.log(
    `\n(c)/(b) = ${(portico.rps / fastify.rps).toFixed(2)} (target ≥ 1.0)` +
      (nginxRow
        ? `; (c)/(n) = ${(portico.rps / nginxRow.rps).toFixed(2)} (target ≥ 0.5)`
        : '; nginx: not run') +
      `; (c)/(a) = ${(portico.rps / rows[0]!.rps).toFixed(2)}` +
      `; p99 added at half of Portico's max rate = ${porticoHalf.p99 - directHalf.p99} ms (target ≤ 2 ms)`,
  );
} finally {
  for (const p of processes.reverse()) await stopProcess(p);
  rmSync(dataDir, { recursive: true, force: true });
}
