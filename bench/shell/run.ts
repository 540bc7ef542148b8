/**
 * `npm run bench:shell`: what sharing one push connection across tabs costs in Chromium.
 *
 * - delivery latency, publish (hub inject) → handler, in the leader tab and in follower tabs
 *   (the follower's extra hop is the BroadcastChannel);
 * - the peer, in the same run: the same tabs without the shell, each with its own EventSource
 *   (what a portal does without sharing): hub connections and latency side by side;
 * - hand-over time, leader tab closed → the next tab has the lock, a ticket and an open
 *   connection;
 * - the bundle size.
 *
 * Both clocks are this machine's Date.now(). Usage: node bench/shell/run.ts [--tabs 3] [--events 200] [--handovers 10]
 */
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { bundleShell } from '../../packages/shell/scripts/bundle.ts';
import { BUNDLE_PATH, startShellHarness } from '../../packages/shell/test/browser-harness.ts';

const { values } = parseArgs({
  options: {
    tabs: { type: 'string', default: '3' },
    events: { type: 'string', default: '200' },
    handovers: { type: 'string', default: '10' },
  },
});
const TABS = Number(values.tabs);
const EVENTS = Number(values.events);
const HANDOVERS = Number(values.handovers);
const TENANT = 'bench';

const bundle = await bundleShell();
console.log(
  `bundle: ${bundle.minBytes} B minified, ${bundle.gzipBytes} B gzipped (+ dev chunk ${bundle.lazyGzipBytes} B gzipped)`,
);

const h = await startShellHarness();
try {
  const token = await h.hub.token(TENANT, ['events:read']);
  h.serve(
    '/bench.html',
    `<!doctype html><script type="module">
  import { createShell } from '${BUNDLE_PATH}';
  const shell = await createShell({ hub: ${JSON.stringify(h.hubUrl)}, getToken: () => ${JSON.stringify(token)} });
  window.arrivals = new Map();
  shell.subscribe('bench', 'bench.>', (m) => window.arrivals.set(m.event.data.sent, Date.now()));
  shell.onConnectionChange((c) => { window.connection = c; if (c.leader && c.state === 'open') window.ledAt ??= Date.now(); });
</script>`,
  );
  h.serve(
    '/naive.html',
    `<!doctype html><script type="module">
  const hub = ${JSON.stringify(h.hubUrl)};
  const res = await fetch(hub + '/v1/stream/tickets', { method: 'POST', headers: { authorization: 'Bearer ${token}' } });
  const { ticket } = await res.json();
  const source = new EventSource(hub + '/v1/stream?topic=bench.%3E&ticket=' + encodeURIComponent(ticket));
  window.arrivals = new Map();
  source.onmessage = (e) => window.arrivals.set(JSON.parse(e.data).event.data.sent, Date.now());
  source.addEventListener('ready', () => { window.ready = true; });
</script>`,
  );
  const context = await h.newContext();
  const isOpen = (page: Page) =>
    page.waitForFunction(
      () => (window as unknown as { connection?: { state: string } }).connection?.state === 'open',
    );
  const tabs: Page[] = [];
  for (let i = 0; i < TABS; i++) {
    const page = await h.open(context, '/bench.html');
    await isOpen(page);
    tabs.push(page);
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // every tab's wants reached the leader

  const roles = await Promise.all(
    tabs.map((page) =>
      page.evaluate(
        () => (window as unknown as { connection: { leader: boolean } }).connection.leader,
      ),
    ),
  );
  const shared = await deliveryLatency(tabs);
  shared.forEach((r, i) =>
    console.log(`tab ${i} (${roles[i] ? 'leader' : 'follower'}): ${r.line}`),
  );
  const sharedConnections = await h.pushConnections();

  // The peer: the same tabs without the shell, each with its own EventSource (ticket + topic).
  const naiveContext = await h.newContext();
  const naiveTabs: Page[] = [];
  for (let i = 0; i < TABS; i++) {
    const page = await h.open(naiveContext, '/naive.html');
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    naiveTabs.push(page);
  }
  const naive = await deliveryLatency(naiveTabs);
  naive.forEach((r, i) => console.log(`naive tab ${i} (own EventSource): ${r.line}`));
  const allConnections = await h.pushConnections();
  const p50 = (rs: { p50: number }[]) => Math.max(...rs.map((r) => r.p50));
  console.log(
    `hub push connections: shell ${sharedConnections} for ${TABS} tabs, one EventSource per tab ${allConnections - sharedConnections}; ` +
      `worst tab p50: shell ${p50(shared)} ms, own EventSource ${p50(naive)} ms (${(p50(shared) / Math.max(1, p50(naive))).toFixed(2)}×)`,
  );
  await naiveContext.close();

  // Hand-over: close the leader, time until the next tab leads an open connection.
  const handovers: number[] = [];
  for (let i = 0; i < HANDOVERS; i++) {
    const leaderIndex = roles.indexOf(true);
    const leader = tabs[leaderIndex]!;
    tabs.splice(leaderIndex, 1);
    roles.splice(leaderIndex, 1);
    const closedAt = Date.now();
    await leader.close({ runBeforeUnload: true });
    const ledAt = await Promise.race(
      tabs.map(async (page, index) => {
        const handle = await page.waitForFunction(
          () => (window as unknown as { ledAt?: number }).ledAt,
        );
        roles[index] = true;
        return (await handle.jsonValue()) as number;
      }),
    );
    handovers.push(ledAt - closedAt);
    const fresh = await h.open(context, '/bench.html');
    await isOpen(fresh);
    tabs.push(fresh);
    roles.push(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const sorted = [...handovers].sort((a, b) => a - b);
  console.log(
    `hand-over (leader closed → next tab open): median ${sorted[Math.floor(sorted.length / 2)]} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms over ${sorted.length}`,
  );
  console.log(`push connections on the hub at the end: ${await h.pushConnections()}`);
} finally {
  await h.close();
}

/** Publishes EVENTS events one at a time and reads, per page, publish → handler latencies. */
async function deliveryLatency(pages: Page[]): Promise<{ p50: number; line: string }[]> {
  const sent: number[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const at = Date.now();
    sent.push(at);
    await h.hub.publish(TENANT, [{ type: 'bench.tick.sent', data: { sent: at } }]);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const latencies = await Promise.all(
    pages.map((page) =>
      page.evaluate(
        (times) =>
          times.map((t) => {
            const got = (window as unknown as { arrivals: Map<number, number> }).arrivals.get(t);
            return got === undefined ? -1 : got - t;
          }),
        sent,
      ),
    ),
  );
  return latencies.map((values) => {
    const missing = values.filter((v) => v < 0).length;
    const sorted = values.filter((v) => v >= 0).sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    return {
      p50: q(0.5),
      line: `publish→handler p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${sorted.at(-1)} ms; missing ${missing}/${values.length}`,
    };
  });
}
