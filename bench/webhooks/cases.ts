// The cases bench/webhooks runs (run.ts) and measures the floor under (floor.ts): the
// receiver process, a POST loop of the bench's own (the raw peer, and the floor's partial
// deliverers), and Portico on a fresh hub.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { loadOrCreateDevIssuer } from '../../packages/hub/src/auth/dev-issuer.ts';
import { cpuByThread, cpuPerItemSince, cpuSeconds } from '../lib/proc-cpu.ts';
import { startProcess, stopProcess } from '../lib/processes.ts';

export type CaseResult = {
  rate: number;
  /** CPU ms per delivery of the sending side: the loop's process, or the hub. */
  senderCpuMs: number;
  /** Of senderCpuMs, the main thread (the event loop; the rest: writer threads, GC, libuv). */
  mainCpuMs: number;
  /** CPU ms per request of the receiver process. */
  receiverCpuMs: number;
};

export type Receiver = {
  url: string;
  pid: number;
  /** Requests seen per path. */
  counts(): Promise<Record<string, number>>;
  waitForCount(path: string, n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
};

/** receiver.ts in its own process: 204 at once on every path, /slow* after 5 s. */
export async function startReceiver(port: number): Promise<Receiver> {
  const url = `http://127.0.0.1:${port}`;
  const child = await startProcess(
    [fileURLToPath(new URL('./receiver.ts', import.meta.url)), String(port)],
    `${url}/count`,
  );
  const counts = async () => (await (await fetch(`${url}/count`)).json()) as Record<string, number>;
  return {
    url,
    pid: child.pid!,
    counts,
    async waitForCount(path, n, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (((await counts())[path] ?? 0) < n) {
        if (Date.now() > deadline)
          throw new Error(`${path}: timed out at ${(await counts())[path]}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => stopProcess(child),
  };
}

export const sampleEvent = (i: number, type: string) => ({
  specversion: '1.0',
  id: `bench-${type}-${i}`,
  source: '/bench',
  type,
  data: { n: i, note: 'a small payload of the usual size', items: [1, 2, 3] },
});

/** The body the loops send: a CloudEvent as the hub stores and delivers it (stamped). */
export const loopBody = (i: number): string =>
  JSON.stringify({
    ...sampleEvent(i, 'raw.loop.sent'),
    time: '2026-12-07T18:00:00.000Z',
    tenantid: 'bench',
    correlationid: `bench-raw.loop.sent-${i}`,
    traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`,
    recordedtime: '2026-12-07T18:00:00.000Z',
  });

/** One request of a loop: its body and whatever the loop's hooks need to know of it. */
export type LoopItem = { i: number; body: string };

export type LoopOptions<T extends LoopItem = LoopItem> = {
  /** Requests in all (the rate's numerator). */
  events: number;
  concurrency: number;
  /** The next request to send; undefined when there is none left. Default: `events` stamped CloudEvents. */
  take?: () => T | undefined | Promise<T | undefined>;
  /** Extra headers of a request (e.g. its signatures), made just before it is sent. */
  headers?: (item: T) => Record<string, string>;
  /** After a request was answered (e.g. to record the attempt). */
  answered?: (item: T, status: number, startedAt: number, durationMs: number) => void;
  /** Awaited before the clock stops (e.g. the last records' commit). */
  finish?: () => Promise<void>;
};

/** `concurrency` workers POSTing with undici over at most as many connections. */
export async function postLoop<T extends LoopItem = LoopItem>(
  receiver: Receiver,
  path: string,
  o: LoopOptions<T>,
): Promise<CaseResult> {
  const agent = new Agent({ connections: o.concurrency });
  const bodies = Array.from({ length: o.events }, (_, i) => loopBody(i));
  let next = 0;
  const take =
    o.take ?? (() => (next < o.events ? ({ i: next, body: bodies[next++]! } as T) : undefined));
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const threadsStart = cpuByThread(process.pid);
  const receiverStart = cpuSeconds(receiver.pid);
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      for (let item = await take(); item !== undefined; item = await take()) {
        const startedAt = Date.now();
        const started = performance.now();
        const res = await request(`${receiver.url}${path}`, {
          method: 'POST',
          body: item.body,
          headers: { 'content-type': 'application/cloudevents+json', ...o.headers?.(item) },
          dispatcher: agent,
        });
        await res.body.dump();
        o.answered?.(item, res.statusCode, startedAt, performance.now() - started);
      }
    }),
  );
  await o.finish?.();
  const rate = o.events / ((performance.now() - start) / 1000);
  const cpu = process.cpuUsage(cpuStart);
  const threads = threadCpuMs(process.pid, threadsStart, o.events);
  const receiverCpuMs = ((cpuSeconds(receiver.pid) - receiverStart) * 1000) / o.events;
  await agent.close();
  const received = (await receiver.counts())[path];
  if (received !== o.events) throw new Error(`${path}: ${received} of ${o.events} received`);
  const senderCpuMs = (cpu.user + cpu.system) / 1000 / o.events;
  console.log(`  ${path}: ${rate.toFixed(0)}/s; CPU ms per request by thread: ${threads.text}`);
  return { rate, senderCpuMs, mainCpuMs: threads.main, receiverCpuMs };
}

/** CPU ms per item by thread since `before` (busiest first), and the main thread's. */
function threadCpuMs(pid: number, before: Map<string, number>, items: number) {
  const threads = cpuPerItemSince(pid, before, items)
    .map(([name, s]) => [name, s * 1000] as const)
    .filter(([, ms]) => ms >= 0.001)
    .sort((a, b) => b[1] - a[1]);
  return {
    main: threads.find(([name]) => name === 'main')?.[1] ?? 0,
    text: threads.map(([name, ms]) => `${name} ${ms.toFixed(3)}`).join(', '),
  };
}

export type PorticoCase = {
  receiver: Receiver;
  /** The hub's port. */
  port: number;
  events: number;
  /** Each endpoint's concurrency. */
  concurrency: number;
  /** A distinct number per case: its paths and event types. */
  n: number;
  /** A second endpoint that gets every event too: a fast one, or one answering after 5 s. */
  neighbour?: '/slow' | '/other';
};

/**
 * A fresh hub: publish → route → signed POST through the SSRF-guarded dispatcher → durable
 * attempt record. The fast endpoint's deliveries/s from the first publish (batches of 250)
 * to the last delivery; CPU per delivery to it (with a neighbour the hub does twice the work).
 */
export async function porticoCase(c: PorticoCase): Promise<CaseResult> {
  const hubUrl = `http://127.0.0.1:${c.port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-webhooks-'));
  const configFile = join(dataDir, 'portico.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({ webhooks: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] } }),
  );
  const main = fileURLToPath(new URL('../../packages/hub/src/main.ts', import.meta.url));
  let hub: Awaited<ReturnType<typeof startProcess>> | undefined;
  try {
    hub = await startProcess(
      [main, 'start', '--port', String(c.port), '--host', '127.0.0.1'].concat([
        '--data-dir',
        dataDir,
        '--config',
        configFile,
      ]),
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
          url: `${c.receiver.url}${path}`,
          eventTypes: [type],
          concurrency: c.concurrency,
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
    await endpoint(`/warm-${c.n}`, `bench.warm${c.n}.sent`);
    await publish(`bench.warm${c.n}.sent`, 500);
    await c.receiver.waitForCount(`/warm-${c.n}`, 500);

    const type = `bench.case${c.n}.sent`;
    const fast = `/fast-${c.n}`;
    await endpoint(fast, type);
    if (c.neighbour) await endpoint(`${c.neighbour}-${c.n}`, type);
    const start = performance.now();
    const hubStart = cpuSeconds(hub.pid);
    const mainStart = cpuSeconds(hub.pid, true);
    const receiverStart = cpuSeconds(c.receiver.pid);
    const threadsStart = cpuByThread(hub.pid);
    await publish(type, c.events);
    await c.receiver.waitForCount(fast, c.events);
    const rate = c.events / ((performance.now() - start) / 1000);
    const threads = threadCpuMs(hub.pid!, threadsStart, c.events);
    console.log(
      `  case ${c.n}: ${rate.toFixed(0)}/s; hub CPU ms per delivery by thread: ${threads.text}`,
    );
    return {
      rate,
      senderCpuMs: ((cpuSeconds(hub.pid) - hubStart) * 1000) / c.events,
      mainCpuMs: ((cpuSeconds(hub.pid, true) - mainStart) * 1000) / c.events,
      receiverCpuMs: ((cpuSeconds(c.receiver.pid) - receiverStart) * 1000) / c.events,
    };
  } finally {
    // Also when the hub never became ready: its data dir must not be left behind.
    if (hub) await stopProcess(hub);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The best rate, and separately the lowest CPU per delivery, of two rounds' results. */
export const keepBest = (a: CaseResult, b: CaseResult): CaseResult => ({
  rate: Math.max(a.rate, b.rate),
  senderCpuMs: Math.min(a.senderCpuMs, b.senderCpuMs),
  mainCpuMs: Math.min(a.mainCpuMs, b.mainCpuMs),
  receiverCpuMs: Math.min(a.receiverCpuMs, b.receiverCpuMs),
});

export const noResult: CaseResult = {
  rate: 0,
  senderCpuMs: Infinity,
  mainCpuMs: Infinity,
  receiverCpuMs: Infinity,
};
