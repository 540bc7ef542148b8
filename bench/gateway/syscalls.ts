// System calls per proxied request (strace -c on the proxy while autocannon sends a fixed
// number of requests): proxies on loopback spend most of their CPU in the kernel, so the
// count of reads, writes and epoll calls per request is what to compare with the peer.
// Usage: node bench/gateway/syscalls.ts [--target portico|fastify] [--requests 20000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { startProcess, stopProcess } from '../lib/processes.ts';
import { definePorticoApi, PORTS, API_PATH, startPortico } from './portico-setup.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'portico' },
    requests: { type: 'string', default: '20000' },
  },
});
const requests = Number(values.requests);
const dataDir = mkdtempSync(join(tmpdir(), 'portico-syscalls-gateway-'));
const upstream = `http://127.0.0.1:${PORTS.upstream}`;
const here = (f: string) => new URL(f, import.meta.url).pathname;

const up = await startProcess([here('./upstream.ts'), String(PORTS.upstream)], `${upstream}/`);
let proxy: ChildProcess;
let target: { url: string; headers: Record<string, string> };
if (values.target === 'fastify') {
  proxy = await startProcess(
    [here('./fastify-proxy.ts'), String(PORTS.fastify), upstream],
    `http://127.0.0.1:${PORTS.fastify}/ready`,
  );
  target = { url: `http://127.0.0.1:${PORTS.fastify}${API_PATH}`, headers: {} };
} else {
  proxy = await startPortico(dataDir);
  target = await definePorticoApi(dataDir, upstream);
}
try {
  await autocannon({ ...target, connections: 32, duration: 2 });
  const out = join(dataDir, 'strace.txt');
  const strace = spawn('strace', ['-c', '-f', '-o', out, '-p', String(proxy.pid)], {
    stdio: 'inherit',
  });
  await sleep(1000);
  await autocannon({ ...target, connections: 32, amount: requests });
  strace.kill('SIGINT');
  await new Promise((resolve) => strace.once('exit', resolve));
  const { readFileSync } = await import('node:fs');
  console.log(`${values.target}: system calls per request over ${requests} requests`);
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    // % time, seconds, usecs/call, calls, [errors], syscall
    const calls = Number(f[3]);
    if (!Number.isFinite(calls) || f.length < 5) continue;
    const name = f[f.length - 1]!;
    if (calls / requests >= 0.01)
      console.log(`  ${name.padEnd(16)} ${(calls / requests).toFixed(2)}`);
  }
} finally {
  await stopProcess(proxy);
  await stopProcess(up);
  rmSync(dataDir, { recursive: true, force: true });
}
