// bench/webhooks: deliveries/s through Portico (publish → route → signed POST through the
// SSRF-guarded dispatcher → durable attempt record) against a raw undici POST loop to the
// same receiver in the same run; then a fast endpoint's throughput alone, beside a fast
// neighbour and beside a neighbour that answers after 5 s. Every Portico case runs on a
// fresh hub (a slow backlog must not leak into the next case), twice; the best counts.
// Usage: npm run bench:webhooks [-- --events 3000 --rounds 2]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpuByThread, cpuPerItemSince, cpuSeconds } from '../lib/proc-cpu.ts';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { loadOrCreateDevIssuer } from '../../packages/hub/src/auth/dev-issuer.ts';
import { startProcess, stopProcess } from '../lib/processes.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    // Which cases to run (a subset of "abcd"), e.g. `--cases ab` while profiling case (b).
    cases: { type: 'string', default: 'abcd' },
  },
});
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const CASES = new Set(values.cases);
const main = fileURLToPath(new URL('../../packages/hub/src/main.ts', import.meta.url));
const receiverMain = fileURLToPath(new URL('./receiver.ts', import.meta.url));
const receiverPort = 18091;
const hubPort = 18092;
const receiver = `http://127.0.0.1:${receiverPort}`;
const hubUrl = `http://127.0.0.1:${hubPort}`;

console.log(
  `bench/webhooks: ${EVENTS} events per case, best of ${ROUNDS}; concurrency: the raw loop runs ${CONCURRENCY} workers over at most ${CONCURRENCY} connections, each Portico endpoint has concurrency ${CONCURRENCY} (at most ${CONCURRENCY} requests, so connections, in flight); hub, receiver and load generator share this machine's ${availableParallelism()} cores (noisy: others work on it too)`,
);

type CaseResult = {
  rate: number;
  /** CPU ms per request of the sending side: the raw loop's process, or the hub. */
  senderCpuMs: number;
  /** Of senderCpuMs, the hub's main thread (its event loop; the rest is writer threads, GC, libuv). */
  mainCpuMs: number;
  /** CPU ms per request of the receiver process. */
  receiverCpuMs: number;
};

const counts = async (): Promise<Record<string, number>> =>
  (await (await fetch(`${receiver}/count`)).json()) as Record<string, number>;

async function waitForCount(path: string, n: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (((await counts())[path] ?? 0) < n) {
    if (Date.now() > deadline) throw new Error(`${path}: timed out at ${(await counts())[path]}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sampleEvent = (i: number, type: string) => ({
  specversion: '1.0',
  id: `bench-${type}-${i}`,
  source: '/bench',
  type,
  data: { n: i, note: 'a small payload of the usual size', items: [1, 2, 3] },
});

/** The raw loop: CONCURRENCY workers POSTing a CloudEvent-sized body with undici. */
async function rawLoop(path: string): Promise<CaseResult> {
  const agent = new Agent({ connections: CONCURRENCY });
  const body = JSON.stringify({
    ...sampleEvent(0, 'raw.loop.sent'),
    tenantid: 'bench',
    traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`,
  });
  let next = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const receiverStart = cpuSeconds(receiverProcess.pid);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        next++;
        const res = await request(`${receiver}${path}`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/cloudevents+json' },
          dispatcher: agent,
        });
        await res.body.dump();
      }
    }),
  );
  const rate = EVENTS / ((performance.now() - start) / 1000);
  const cpu = process.cpuUsage(cpuStart);
  const receiverCpuMs = ((cpuSeconds(receiverProcess.pid) - receiverStart) * 1000) / EVENTS;
  await agent.close();
  const senderCpuMs = (cpu.user + cpu.system) / 1000 / EVENTS;
  return { rate, senderCpuMs, mainCpuMs: senderCpuMs, receiverCpuMs };
}

let caseNo = 0;
/**
 * A fresh hub; `neighbour` (a path, or none) gets every event too. Returns the fast
 * endpoint's deliveries/s from the first publish to the last delivery.
 */
async function portico(neighbour: '/slow' | '/other' | undefined): Promise<CaseResult> {
  const n = ++caseNo;
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-webhooks-'));
  const configFile = join(dataDir, 'portico.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({ webhooks: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] } }),
  );
  let hub: Awaited<ReturnType<typeof startProcess>> | undefined;
  try {
    hub = await startProcess(
      [
        main,
        'start',
        '--port',
        String(hubPort),
        '--host',
        '127.0.0.1',
        '--data-dir',
        dataDir,
        '--config',
        configFile,
      ],
      `${hubUrl}/readyz`,
      { PORTICO_LOG_LEVEL: 'warn' },
    );
    const token = await (
      await loadOrCreateDevIssuer(dataDir, { audience: 'urn:portico' })
    ).mint({ tenant: 'bench', scopes: ['events:publish', 'webhooks:write'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const endpoint = async (path: string, type: string) => {
      const res = await fetch(`${hubUrl}/v1/webhooks/endpoints`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          url: `${receiver}${path}`,
          eventTypes: [type],
          concurrency: CONCURRENCY,
        }),
      });
      if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${await res.text()}`);
    };
    const publish = async (type: string, count: number) => {
      for (let i = 0; i < count; i += 250) {
        const batch = Array.from({ length: Math.min(250, count - i) }, (_, j) =>
          sampleEvent(i + j, type),
        );
        const res = await fetch(`${hubUrl}/v1/events`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/cloudevents-batch+json' },
          body: JSON.stringify(batch),
        });
        if (res.status !== 202) throw new Error(`publish: ${res.status} ${await res.text()}`);
      }
    };
    // Warm-up: JIT, connections, SQLite pages.
    await endpoint(`/warm-${n}`, `bench.warm${n}.sent`);
    await publish(`bench.warm${n}.sent`, 500);
    await waitForCount(`/warm-${n}`, 500);

    const type = `bench.case${n}.sent`;
    const fast = `/fast-${n}`;
    await endpoint(fast, type);
    if (neighbour) await endpoint(`${neighbour}-${n}`, type);
    const start = performance.now();
    const hubStart = cpuSeconds(hub.pid);
    const mainStart = cpuSeconds(hub.pid, true);
    const receiverStart = cpuSeconds(receiverProcess.pid);
    const threadsStart = cpuByThread(hub.pid);
    await publish(type, EVENTS);
    await waitForCount(fast, EVENTS);
    const rate = EVENTS / ((performance.now() - start) / 1000);
    const threads = cpuPerItemSince(hub.pid, threadsStart, EVENTS)
      .map(([name, s]) => [name, s * 1000] as const)
      .filter(([, ms]) => ms >= 0.001)
      .sort((a, b) => b[1] - a[1]);
    console.log(
      `  case ${n}: ${rate.toFixed(0)}/s; hub CPU ms per delivery by thread: ${threads.map(([name, ms]) => `${name} ${ms.toFixed(3)}`).join(', ')}`,
    );
    // Per delivery to the fast endpoint (with a neighbour the hub does twice the work).
    return {
      rate,
      senderCpuMs: ((cpuSeconds(hub.pid) - hubStart) * 1000) / EVENTS,
      mainCpuMs: ((cpuSeconds(hub.pid, true) - mainStart) * 1000) / EVENTS,
      receiverCpuMs: ((cpuSeconds(receiverProcess.pid) - receiverStart) * 1000) / EVENTS,
    };
  } finally {
    // Also when the hub never became ready: its data dir must not be left behind.
    if (hub) await stopProcess(hub);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const receiverProcess = await startProcess(
  [receiverMain, String(receiverPort)],
  `${receiver}/count`,
);
try {
  const none: CaseResult = {
    rate: 0,
    senderCpuMs: Infinity,
    mainCpuMs: Infinity,
    receiverCpuMs: Infinity,
  };
  const best = { raw: none, alone: none, besideFast: none, besideSlow: none };
  // The best rate, and separately the lowest CPU per delivery seen in any round.
  const keep = (a: CaseResult, b: CaseResult): CaseResult => ({
    rate: Math.max(a.rate, b.rate),
    senderCpuMs: Math.min(a.senderCpuMs, b.senderCpuMs),
    mainCpuMs: Math.min(a.mainCpuMs, b.mainCpuMs),
    receiverCpuMs: Math.min(a.receiverCpuMs, b.receiverCpuMs),
  });
  for (let round = 0; round < ROUNDS; round++) {
    if (CASES.has('a')) best.raw = keep(best.raw, await rawLoop(`/raw-${round}`));
    if (CASES.has('b')) best.alone = keep(best.alone, await portico(undefined));
    if (CASES.has('c')) best.besideFast = keep(best.besideFast, await portico('/other'));
    if (CASES.has('d')) best.besideSlow = keep(best.besideSlow, await portico('/slow'));
  }
  const rows: Array<[string, string, CaseResult]> = [
    ['a', '(a) raw undici POST loop → receiver', best.raw],
    ['b', '(b) Portico: publish → route → signed webhook + attempt record', best.alone],
    ['c', '(c) Portico, fast endpoint, each event also to a fast neighbour', best.besideFast],
    ['d', '(d) Portico, fast endpoint, each event also to a 5 s-slow neighbour', best.besideSlow],
  ];
  console.log(
    '\n| case | deliveries/s | × raw loop | sender CPU ms/delivery | of which main thread | receiver CPU ms/request |\n|---|---:|---:|---:|---:|---:|',
  );
  for (const [id, name, r] of rows)
    if (CASES.has(id))
      console.log(
        `| ${name} | ${r.rate.toFixed(0)} | ${best.raw.rate > 0 ? (r.rate / best.raw.rate).toFixed(2) : '–'} | ${r.senderCpuMs.toFixed(3)} | ${r.mainCpuMs.toFixed(3)} | ${r.receiverCpuMs.toFixed(3)} |`,
      );
  console.log(
    "\nsender CPU = the raw loop process, or the whole hub (ingest, routing, store, signing, HTTP) per delivery to the fast endpoint; main thread = the hub's event loop thread alone (the rest: store writer threads, GC, libuv); lowest of the rounds",
  );
  if (CASES.has('b') && CASES.has('c') && CASES.has('d'))
    console.log(
      `slow neighbour: the fast endpoint kept ${((best.besideSlow.rate / best.besideFast.rate) * 100).toFixed(0)}% of its throughput beside a fast neighbour (d/c; target ≥ 90%), ${((best.besideSlow.rate / best.alone.rate) * 100).toFixed(0)}% of its throughput alone (d/b)`,
    );
} finally {
  await stopProcess(receiverProcess);
}
