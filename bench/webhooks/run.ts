// bench/webhooks: deliveries/s through Portico (publish → route → signed POST through the
// SSRF-guarded dispatcher → durable attempt record) against a raw undici POST loop to the
// same receiver in the same run; then a fast endpoint's throughput alone, beside a fast
// neighbour and beside a neighbour that answers after 5 s. Every Portico case runs on a
// fresh hub (a slow backlog must not leak into the next case), twice; the best counts.
// Usage: npm run bench:webhooks [-- --events 3000 --rounds 2]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import {
  keepBest,
  noResult,
  porticoCase,
  postLoop,
  startReceiver,
  type CaseResult,
} from './cases.ts';

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

console.log(
  `bench/webhooks: ${EVENTS} events per case, best of ${ROUNDS}; concurrency: the raw loop runs ${CONCURRENCY} workers over at most ${CONCURRENCY} connections, each Portico endpoint has concurrency ${CONCURRENCY} (at most ${CONCURRENCY} requests, so connections, in flight); hub, receiver and load generator share this machine's ${availableParallelism()} cores (noisy: others work on it too)`,
);

const receiver = await startReceiver(18091);
try {
  const best = { raw: noResult, alone: noResult, besideFast: noResult, besideSlow: noResult };
  let n = 0;
  const portico = (neighbour?: '/slow' | '/other') =>
    porticoCase({
      receiver,
      port: 18092,
      events: EVENTS,
      concurrency: CONCURRENCY,
      n: ++n,
      neighbour,
    });
  // The best rate, and separately the lowest CPU per delivery seen in any round.
  for (let round = 0; round < ROUNDS; round++) {
    if (CASES.has('a'))
      best.raw = keepBest(
        best.raw,
        await postLoop(receiver, `/raw-${round}`, { events: EVENTS, concurrency: CONCURRENCY }),
      );
    if (CASES.has('b')) best.alone = keepBest(best.alone, await portico());
    if (CASES.has('c')) best.besideFast = keepBest(best.besideFast, await portico('/other'));
    if (CASES.has('d')) best.besideSlow = keepBest(best.besideSlow, await portico('/slow'));
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
  await receiver.stop();
}
