// bench/webhooks: deliveries/s through Portico (publish → route → signed POST through the
// SSRF-guarded dispatcher → durable attempt record) against a raw undici POST loop to the
// same receiver in the same run; then a fast endpoint's throughput alone and beside an
// endpoint that takes 5 s per answer. Usage: npm run bench:webhooks [-- --events 4000]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { loadOrCreateDevIssuer } from '../../packages/hub/src/auth/dev-issuer.ts';
import { startProcess, stopProcess } from '../lib/processes.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
  },
});
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const main = fileURLToPath(new URL('../../packages/hub/src/main.ts', import.meta.url));
const receiverMain = fileURLToPath(new URL('./receiver.ts', import.meta.url));
const receiverPort = 18091;
const hubPort = 18092;
const receiver = `http://127.0.0.1:${receiverPort}`;
const hubUrl = `http://127.0.0.1:${hubPort}`;
const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-webhooks-'));

console.log(
  `bench/webhooks: ${EVENTS} events per case, concurrency ${CONCURRENCY} per endpoint; hub, receiver and load generator share this machine's ${availableParallelism()} cores (noisy: others work on it too)`,
);

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

const receiverProcess = await startProcess(
  [receiverMain, String(receiverPort)],
  `${receiver}/count`,
);
const configFile = join(dataDir, 'portico.config.json');
writeFileSync(
  configFile,
  JSON.stringify({ webhooks: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] } }),
);
const hub = await startProcess(
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

try {
  // (a) the raw loop: CONCURRENCY workers POSTing a CloudEvent-sized body with undici.
  const agent = new Agent({ connections: CONCURRENCY });
  const body = JSON.stringify({
    ...sampleEvent(0, 'raw.loop.sent'),
    tenantid: 'bench',
    traceparent: '00-' + '1'.repeat(32) + '-' + '2'.repeat(16) + '-01',
  });
  let next = 0;
  const rawStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        next++;
        const res = await request(`${receiver}/raw`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/cloudevents+json' },
          dispatcher: agent,
        });
        await res.body.dump();
      }
    }),
  );
  const rawPerSecond = EVENTS / ((performance.now() - rawStart) / 1000);
  await agent.close();

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
  /** Publishes EVENTS events of `type` (batches of 250) and times until `path` has them all. */
  const deliver = async (type: string, path: string): Promise<number> => {
    const start = performance.now();
    for (let i = 0; i < EVENTS; i += 250) {
      const batch = Array.from({ length: Math.min(250, EVENTS - i) }, (_, j) =>
        sampleEvent(i + j, type),
      );
      const res = await fetch(`${hubUrl}/v1/events`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify(batch),
      });
      if (res.status !== 202) throw new Error(`publish: ${res.status} ${await res.text()}`);
    }
    await waitForCount(path, EVENTS);
    return EVENTS / ((performance.now() - start) / 1000);
  };

  // (b) Portico, one endpoint: publish, route, sign, send, record every attempt.
  await endpoint('/portico', 'bench.alone.sent');
  await deliver('bench.alone.sent', '/portico'); // warm-up (JIT, connections, SQLite pages)
  await endpoint('/fast', 'bench.fast.sent');
  const alone = await deliver('bench.fast.sent', '/fast');

  // (c) the same events to two endpoints, both fast: the routing cost of a neighbour.
  await endpoint('/fast2', 'bench.pair.sent');
  await endpoint('/other', 'bench.pair.sent');
  const besideFast = await deliver('bench.pair.sent', '/fast2');

  // (d) the same, but the neighbour answers every request after 5 s.
  await endpoint('/fast3', 'bench.shared.sent');
  await endpoint('/slow', 'bench.shared.sent');
  const beside = await deliver('bench.shared.sent', '/fast3');
  const slowDone = (await counts())['/slow'] ?? 0;

  const rows: Array<[string, string, string]> = [
    ['(a) raw undici POST loop → receiver', rawPerSecond.toFixed(0), '1.00'],
    [
      '(b) Portico: publish → route → signed webhook + attempt record',
      alone.toFixed(0),
      (alone / rawPerSecond).toFixed(2),
    ],
    [
      '(c) Portico, fast endpoint, each event also to a fast neighbour',
      besideFast.toFixed(0),
      (besideFast / rawPerSecond).toFixed(2),
    ],
    [
      '(d) Portico, fast endpoint, each event also to a 5 s-slow neighbour',
      beside.toFixed(0),
      (beside / rawPerSecond).toFixed(2),
    ],
  ];
  console.log('\n| case | deliveries/s | × raw loop |\n|---|---:|---:|');
  for (const [name, rate, ratio] of rows) console.log(`| ${name} | ${rate} | ${ratio} |`);
  console.log(
    `\nslow neighbour: the fast endpoint kept ${((beside / besideFast) * 100).toFixed(0)}% of its throughput beside a fast neighbour (d/c; target ≥ 90%) and ${((beside / alone) * 100).toFixed(0)}% of its throughput alone (d/b); the slow endpoint had been sent ${slowDone} of ${EVENTS} meanwhile`,
  );
} finally {
  await stopProcess(hub);
  await stopProcess(receiverProcess);
  rmSync(dataDir, { recursive: true, force: true });
}
