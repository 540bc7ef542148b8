/**
 * The shell's push connection in real Chromium tabs against a real hub: one connection for
 * several micro-frontends and for several tabs (counted on the hub and on the network),
 * replay of the last N for a late-mounting micro-frontend, and the hand-over to another
 * tab when the leader tab closes, without losing events published meanwhile.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../hub/src/testing/wait-for.ts';
import { BUNDLE_PATH, startShellHarness, type ShellHarness } from './browser-harness.ts';

let h: ShellHarness;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  h = await startShellHarness();
  // Three micro-frontends, each its own script: two want incidents (one hub subscription),
  // one wants billing. Each records what it got.
  const mfe = (name: string, pattern: string) =>
    h.serve(
      `/mfe/${name}.js`,
      `const shell = await window.portico;
       const seen = ((window.received ??= {})[${JSON.stringify(name)}] = []);
       shell.subscribe(${JSON.stringify(name)}, ${JSON.stringify(pattern)}, (m) =>
         seen.push({ position: m.position, replayed: m.replayed === true, type: m.event.type }));`,
    );
  mfe('incidents', 'incident.>');
  mfe('incident-count', 'incident.>');
  mfe('billing', 'billing.>');
}, 30_000);

afterAll(async () => {
  await h?.close();
});

beforeEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  // Each test counts connections from zero: the previous test's tabs are gone on the hub too.
  await waitFor(async () => (await h.pushConnections()) === 0, 'no push connections left');
});

type Received = { position: number; replayed: boolean; type: string };

/** The portal page for `tenant`: one shell, the three micro-frontend scripts. */
async function portal(
  tenant: string,
  transport: 'sse' | 'ws' = 'sse',
  /** A page expression for getToken's result; default a long-lived token baked in. */
  getToken?: string,
): Promise<string> {
  const path = `/portal-${tenant}-${transport}.html`;
  const token = await h.hub.token(tenant, ['events:read']);
  h.serve(
    path,
    `<!doctype html><html><body>
<script type="module">
  import { createShell } from '${BUNDLE_PATH}';
  window.portico = createShell({
    hub: ${JSON.stringify(h.hubUrl)},
    transport: ${JSON.stringify(transport)},
    getToken: () => ${getToken ?? JSON.stringify(token)},
  });
  const shell = await window.portico;
  // Subscribed as the shell resolves: before any other tab can answer this tab's hello.
  if (location.hash === '#early-replay') {
    const seen = ((window.received ??= {})['billing-early'] = []);
    shell.subscribe('billing-early', 'billing.>', (m) =>
      seen.push({ position: m.position, replayed: m.replayed === true, type: m.event.type }),
      { replay: 3 });
  }
  window.connection = shell.connection;
  shell.onConnectionChange((c) => { window.connection = c; });
  window.mountLate = (name, pattern, replay, filter) => {
    const seen = ((window.received ??= {})[name] = []);
    (window.unmount ??= {})[name] = shell.subscribe(name, pattern, (m) =>
      seen.push({ position: m.position, replayed: m.replayed === true, type: m.event.type }),
      { replay, filter });
  };
</script>
<script type="module" src="/mfe/incidents.js"></script>
<script type="module" src="/mfe/incident-count.js"></script>
<script type="module" src="/mfe/billing.js"></script>
</body></html>`,
  );
  return path;
}

async function newContext(): Promise<BrowserContext> {
  const context = await h.newContext();
  contexts.push(context);
  return context;
}

const connectionOf = (page: Page) =>
  page.evaluate(
    () => (window as unknown as { connection?: { state: string; leader: boolean } }).connection,
  );

async function waitOpen(page: Page): Promise<{ state: string; leader: boolean }> {
  await page.waitForFunction(
    () => (window as unknown as { connection?: { state: string } }).connection?.state === 'open',
  );
  return (await connectionOf(page))!;
}

const received = (page: Page, name: string) =>
  page.evaluate(
    (n) => (window as unknown as { received?: Record<string, Received[]> }).received?.[n] ?? [],
    name,
  );

async function waitReceived(page: Page, name: string, positions: number[]): Promise<Received[]> {
  return waitFor(
    async () => {
      const got = await received(page, name);
      return positions.every((p) => got.some((r) => r.position === p)) ? got : undefined;
    },
    `${name} to receive ${positions.join(',')}`,
  );
}

/** The hub's /v1/stream requests and /v1/ws sockets of a context (what the network sees). */
function streamRequests(context: BrowserContext): string[] {
  const seen: string[] = [];
  context.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path === '/v1/stream' || path === '/v1/ws') seen.push(path);
  });
  // WebSockets are not requests to Playwright: count them per tab.
  context.on('page', (page) =>
    page.on('websocket', (socket) => seen.push(new URL(socket.url()).pathname)),
  );
  return seen;
}

describe('one push connection', () => {
  it('serves several micro-frontends and two tabs over one hub connection', async () => {
    const tenant = 'one-conn';
    const path = await portal(tenant);
    const context = await newContext();
    const requests = streamRequests(context);
    const first = await h.open(context, path);
    expect(await waitOpen(first)).toEqual({ state: 'open', leader: true });
    const second = await h.open(context, path);
    expect(await waitOpen(second)).toEqual({ state: 'open', leader: false });
    // The second tab's subscriptions reach the leader before we publish.
    await second.waitForFunction(
      () => Object.keys((window as unknown as { received?: object }).received ?? {}).length === 3,
    );

    const [inc, bill] = await h.hub.publish(tenant, [
      { type: 'incident.ticket.created' },
      { type: 'billing.invoice.paid' },
    ]);
    for (const page of [first, second]) {
      expect(await waitReceived(page, 'incidents', [inc!])).toEqual([
        { position: inc, replayed: false, type: 'incident.ticket.created' },
      ]);
      await waitReceived(page, 'incident-count', [inc!]);
      expect(await waitReceived(page, 'billing', [bill!])).toEqual([
        { position: bill, replayed: false, type: 'billing.invoice.paid' },
      ]);
    }
    // Counted on the hub and on the network: one stream for 2 tabs x 3 micro-frontends.
    expect(await h.pushConnections()).toBe(1);
    expect(requests).toEqual(['/v1/stream']);
    // incident.> of two micro-frontends in two tabs is one hub subscription; billing.> the other.
    expect(await h.hub.metric('portico_push_subscriptions')).toBe(2);

    // A follower tab leaving changes nothing on the hub: the leader's tab still wants both.
    await second.close({ runBeforeUnload: true });
    const [afterClose] = await h.hub.publish(tenant, [{ type: 'incident.ticket.created' }]);
    await waitReceived(first, 'incidents', [afterClose!]);
    expect(await h.pushConnections()).toBe(1);
    expect(await h.hub.metric('portico_push_subscriptions')).toBe(2);
  });

  it('works the same over WebSocket', async () => {
    const tenant = 'one-ws';
    const path = await portal(tenant, 'ws');
    const context = await newContext();
    const requests = streamRequests(context);
    const pages = [await h.open(context, path), await h.open(context, path)];
    await Promise.all(pages.map(waitOpen));
    await pages[1]!.waitForFunction(
      () => Object.keys((window as unknown as { received?: object }).received ?? {}).length === 3,
    );
    const [inc] = await h.hub.publish(tenant, [{ type: 'incident.ticket.created' }]);
    for (const page of pages) await waitReceived(page, 'incidents', [inc!]);
    expect(await h.hub.metric('portico_push_connections', { transport: 'ws' })).toBe(1);
    expect(requests).toEqual(['/v1/ws']);
  });
});

type LateWindow = { mountLate(n: string, p: string, r: number): void };

/** Mounts a micro-frontend late on `page` (the fixture's mountLate), asking for `replay`. */
const mountLate = (page: Page, mfe: string, pattern: string, replay: number) =>
  page.evaluate(([m, p, r]) => (window as unknown as LateWindow).mountLate(m, p, r), [
    mfe,
    pattern,
    replay,
  ] as const);

/** Waits until the hub counts `count` push subscriptions. */
const hubSubscriptions = (count: number, what: string) =>
  waitFor(async () => (await h.hub.metric('portico_push_subscriptions')) === count, what);

/** While `refusing()`, a one-shot replay (a `:r` subscription) gets 503: the hub never hears of it. */
async function refuseOneShotReplays(context: BrowserContext, refusing: () => boolean) {
  await context.route(
    (url) => url.pathname.endsWith('/subscriptions'),
    (route) =>
      refusing() && route.request().postData()?.includes(':r')
        ? route.fulfill({ status: 503 })
        : route.fallback(),
  );
}

/** Kills the page's renderer (no pagehide, no bye) and waits until it is gone. */
async function crash(context: BrowserContext, page: Page) {
  void (await context.newCDPSession(page)).send('Page.crash').catch(() => {}); // no one answers
  await new Promise<void>((resolve) => page.once('crash', () => resolve()));
}

describe('replay for a late-mounting micro-frontend', () => {
  it('gets the last N: from the hub when the pattern is new, from the shell when it is live', async () => {
    const tenant = 'late';
    const path = await portal(tenant);
    const context = await newContext();
    const page = await h.open(context, path);
    await waitOpen(page);
    const audits = await h.hub.publish(
      tenant,
      Array.from({ length: 4 }, () => ({ type: 'audit.entry.written' })),
    );
    const incidents = await h.hub.publish(
      tenant,
      Array.from({ length: 4 }, () => ({ type: 'incident.ticket.created' })),
    );
    await waitReceived(page, 'incidents', incidents);

    // audit.> is on no connection yet: the hub replays the last 2 (`last: 2`), then live.
    await page.evaluate(() =>
      (window as unknown as { mountLate(n: string, p: string, r: number): void }).mountLate(
        'audit-late',
        'audit.>',
        2,
      ),
    );
    const replayed = await waitReceived(page, 'audit-late', audits.slice(2));
    expect(replayed).toEqual(
      audits
        .slice(2)
        .map((position) => ({ position, replayed: true, type: 'audit.entry.written' })),
    );
    // incident.> is live: the shell's own buffer serves the last 3.
    await page.evaluate(() =>
      (window as unknown as { mountLate(n: string, p: string, r: number): void }).mountLate(
        'incidents-late',
        'incident.>',
        3,
      ),
    );
    expect(await waitReceived(page, 'incidents-late', incidents.slice(1))).toEqual(
      incidents.slice(1).map((position) => ({
        position,
        replayed: true,
        type: 'incident.ticket.created',
      })),
    );

    const [liveAudit, liveIncident] = await h.hub.publish(tenant, [
      { type: 'audit.entry.written' },
      { type: 'incident.ticket.created' },
    ]);
    expect((await waitReceived(page, 'audit-late', [liveAudit!])).at(-1)).toEqual({
      position: liveAudit,
      replayed: false,
      type: 'audit.entry.written',
    });
    expect((await waitReceived(page, 'incidents-late', [liveIncident!])).length).toBe(4);
    expect(await h.pushConnections()).toBe(1);
    expect(await h.hub.metric('portico_push_subscriptions')).toBe(3);

    // The last micro-frontend on audit.> leaves: the leader drops it from the connection.
    await page.evaluate(() =>
      (window as unknown as { unmount: Record<string, () => void> }).unmount['audit-late']!(),
    );
    await hubSubscriptions(2, 'audit.> to leave the hub connection');
  });

  it('gives replayed messages only to the micro-frontend that asked for them', async () => {
    const tenant = 'late-plain';
    const old = await h.hub.publish(
      tenant,
      Array.from({ length: 3 }, () => ({ type: 'audit.entry.written' })),
    );
    const page = await h.open(await newContext(), await portal(tenant));
    // Both mount as the page starts, before the pattern is live and before any message:
    // one asks for the last 2, the other only for what comes next.
    await page.waitForFunction(() => 'mountLate' in window);
    await page.evaluate(() => {
      const w = window as unknown as { mountLate(n: string, p: string, r: number): void };
      w.mountLate('audit-replay', 'audit.>', 2);
      w.mountLate('audit-plain', 'audit.>', 0);
    });
    await waitReceived(page, 'audit-replay', old.slice(1));
    const [live] = await h.hub.publish(tenant, [{ type: 'audit.entry.written' }]);
    expect(await waitReceived(page, 'audit-plain', [live!])).toEqual([
      { position: live, replayed: false, type: 'audit.entry.written' },
    ]);
  });

  it('serves a live pattern from the buffer when its own last-N replay found fewer in the log', async () => {
    const tenant = 'late-dry';
    const old = await h.hub.publish(
      tenant,
      Array.from({ length: 2 }, () => ({ type: 'audit.entry.written' })),
    );
    const context = await newContext();
    const replayRequests: string[] = [];
    context.on('request', (request) => {
      const body = request.method() === 'POST' ? request.postData() : null;
      if (body?.includes('"last"')) replayRequests.push(JSON.parse(body).id);
    });
    const page = await h.open(context, await portal(tenant));
    await waitOpen(page);
    await mountLate(page, 'audit-first', 'audit.>', 5);
    await waitReceived(page, 'audit-first', old);
    // Live events follow the replay's caught-up: once this one is in, the replay is done.
    const [live] = await h.hub.publish(tenant, [{ type: 'audit.entry.written' }]);
    await waitReceived(page, 'audit-first', [live!]);

    // The log had 2 of the 5 asked: the buffer holds every match, no hub replay is needed.
    await mountLate(page, 'audit-late', 'audit.>', 5);
    expect(await waitReceived(page, 'audit-late', [...old, live!])).toEqual(
      [...old, live!].map((position) => ({
        position,
        replayed: true,
        type: 'audit.entry.written',
      })),
    );
    expect(replayRequests).toEqual(['audit.>']);
  });

  it.each(['sse', 'ws'] as const)(
    'gets the last N from the hub when the pattern is live but went live after them, in leader and follower tabs (%s)',
    async (transport) => {
      const tenant = `late-live-${transport}`;
      // Published before the page opens: the shell's buffer for billing.> never saw them.
      const old = await h.hub.publish(
        tenant,
        Array.from({ length: 4 }, () => ({ type: 'billing.invoice.paid' })),
      );
      const path = await portal(tenant, transport);
      const context = await newContext();
      const leader = await h.open(context, path);
      expect((await waitOpen(leader)).leader).toBe(true);
      const follower = await h.open(context, path);
      expect((await waitOpen(follower)).leader).toBe(false);
      await follower.waitForFunction(
        () => Object.keys((window as unknown as { received?: object }).received ?? {}).length === 3,
      );
      // billing.js subscribed to billing.> at page start, without replay: it is live, and one
      // event reaches both tabs' buffers before the late mounts (so the buffer has 1, not 3).
      const [seen] = await h.hub.publish(tenant, [{ type: 'billing.invoice.paid' }]);
      for (const page of [leader, follower]) await waitReceived(page, 'billing', [seen!]);

      await mountLate(follower, 'billing-late', 'billing.>', 3);
      await mountLate(leader, 'billing-late', 'billing.>', 2);
      const replayed = (positions: number[]) =>
        positions.map((position) => ({ position, replayed: true, type: 'billing.invoice.paid' }));
      expect(await waitReceived(follower, 'billing-late', [old[2]!, old[3]!, seen!])).toEqual(
        replayed([old[2]!, old[3]!, seen!]),
      );
      expect(await waitReceived(leader, 'billing-late', [old[3]!, seen!])).toEqual(
        replayed([old[3]!, seen!]),
      );
      // The one-shot replay subscriptions leave the hub after their caught-up.
      await hubSubscriptions(2, 'only incident.> and billing.> on the hub connection');

      const live = await h.hub.publish(
        tenant,
        Array.from({ length: 2 }, () => ({ type: 'billing.invoice.paid' })),
      );
      const liveOnes = live.map((position) => ({
        position,
        replayed: false,
        type: 'billing.invoice.paid',
      }));
      expect(await waitReceived(follower, 'billing-late', live)).toEqual([
        ...replayed([old[2]!, old[3]!, seen!]),
        ...liveOnes,
      ]);
      expect(await waitReceived(leader, 'billing-late', live)).toEqual([
        ...replayed([old[3]!, seen!]),
        ...liveOnes,
      ]);
      // The micro-frontend that mounted without replay got none of the replayed messages.
      expect(await waitReceived(follower, 'billing', live)).toEqual([
        { position: seen, replayed: false, type: 'billing.invoice.paid' },
        ...liveOnes,
      ]);
      expect(await h.pushConnections()).toBe(1);
    },
  );
});

describe('content filters', () => {
  it('passes a filter to the hub; equal patterns with different filters are separate subscriptions', async () => {
    const tenant = 'filtered';
    const path = await portal(tenant);
    const context = await newContext();
    const page = await h.open(context, path);
    await waitOpen(page);
    await page.evaluate(() =>
      (
        window as unknown as { mountLate(n: string, p: string, r: number, f: unknown): void }
      ).mountLate('high-only', 'incident.>', 0, { data: { severity: ['high'] } }),
    );
    await hubSubscriptions(3, 'the filtered subscription on the hub');
    const [low, high] = await h.hub.publish(tenant, [
      { type: 'incident.ticket.created', data: { severity: 'low' } },
      { type: 'incident.ticket.created', data: { severity: 'high' } },
    ]);
    await waitReceived(page, 'incidents', [low!, high!]);
    expect((await waitReceived(page, 'high-only', [high!])).map((r) => r.position)).toEqual([high]);
  });
});

describe('leader hand-over', () => {
  it('the other tab takes over when the leader tab closes, and loses no event', async () => {
    const tenant = 'handover';
    const path = await portal(tenant);
    const context = await newContext();
    const leader = await h.open(context, path);
    expect((await waitOpen(leader)).leader).toBe(true);
    const follower = await h.open(context, path);
    expect((await waitOpen(follower)).leader).toBe(false);
    await follower.waitForFunction(
      () => Object.keys((window as unknown as { received?: object }).received ?? {}).length === 3,
    );

    // Events keep coming while the leader tab closes and the follower takes over.
    const published: number[] = [];
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        published.push(...(await h.hub.publish(tenant, [{ type: 'incident.ticket.created' }])));
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();
    await waitFor(() => published.length >= 5, 'a few events before the hand-over');
    await leader.close({ runBeforeUnload: true });
    await follower.waitForFunction(
      () =>
        (window as unknown as { connection?: { state: string; leader: boolean } }).connection
          ?.leader === true,
    );
    await waitOpen(follower);
    const afterHandover = published.length;
    await waitFor(() => published.length >= afterHandover + 5, 'a few events after it');
    publishing = false;
    await publisher;

    const got = await waitReceived(follower, 'incidents', published);
    // Every event exactly once, in order: none lost in the gap, none doubled at the seam.
    expect(got.map((r) => r.position)).toEqual(published);
    expect(await h.pushConnections()).toBe(1);
  });
});

describe('leader hand-over before any message', () => {
  it('resumes from the position the first connection covered, not from live', async () => {
    const tenant = 'handover-quiet';
    const path = await portal(tenant);
    const context = await newContext();
    const leader = await h.open(context, path);
    await waitOpen(leader);
    const follower = await h.open(context, path);
    await waitOpen(follower);
    await follower.waitForFunction(
      () => Object.keys((window as unknown as { received?: object }).received ?? {}).length === 3,
    );
    // Nothing has been published for this tenant: the tabs only know the ticket's position.
    await leader.close({ runBeforeUnload: true });
    const during = await h.hub.publish(tenant, [
      { type: 'incident.ticket.created' },
      { type: 'billing.invoice.paid' },
    ]);
    await follower.waitForFunction(
      () => (window as unknown as { connection?: { leader: boolean } }).connection?.leader === true,
    );
    expect((await waitReceived(follower, 'incidents', [during[0]!])).length).toBe(1);
    expect((await waitReceived(follower, 'billing', [during[1]!])).length).toBe(1);
  });
});

describe('staying connected', () => {
  it('reconnects with a fresh ticket after the connection drops and resumes after the last position', async () => {
    const tenant = 'drop';
    const path = await portal(tenant);
    const context = await newContext();
    const streams: string[] = [];
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/v1/stream') streams.push(url.search);
    });
    const page = await h.open(context, path);
    await waitOpen(page);
    const [before] = await h.hub.publish(tenant, [{ type: 'incident.ticket.created' }]);
    await waitReceived(page, 'incidents', [before!]);

    // Cut every connection to the hub, then publish while the shell is reconnecting.
    h.hub.hub.server.server.closeAllConnections();
    const during = await h.hub.publish(
      tenant,
      Array.from({ length: 3 }, () => ({ type: 'incident.ticket.created' })),
    );
    const got = await waitReceived(page, 'incidents', during);
    expect(got.map((r) => r.position)).toEqual([before, ...during]);
    expect(streams).toHaveLength(2);
    const again = new URLSearchParams(streams[1]);
    expect(again.get('from')).toBe(String(before));
    expect(again.get('ticket')).not.toBe(new URLSearchParams(streams[0]).get('ticket'));
  });

  it('keeps a filter the hub refuses, subscribed while the connection is down, from failing the others', async () => {
    const tenant = 'refused-while-down';
    const context = await newContext();
    const page = await h.open(context, await portal(tenant));
    const errors: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await waitOpen(page);
    const [before] = await h.hub.publish(tenant, [{ type: 'incident.ticket.created' }]);
    await waitReceived(page, 'incidents', [before!]);
    // Mounted the moment the shell sees its connection drop: one micro-frontend with a filter
    // the hub refuses (its values must be arrays), one with a new pattern.
    await page.evaluate(async () => {
      const w = window as unknown as {
        mountLate(n: string, p: string, r: number, f?: unknown): void;
        portico: Promise<{ onConnectionChange(l: (c: { state: string }) => void): () => void }>;
      };
      const shell = await w.portico;
      const stop = shell.onConnectionChange((c) => {
        if (c.state !== 'connecting') return;
        stop();
        w.mountLate('bad-filter', 'incident.>', 0, { data: { severity: 'high' } });
        w.mountLate('audit-late', 'audit.>', 0);
      });
    });
    h.hub.hub.server.server.closeAllConnections();
    const during = await h.hub.publish(tenant, [
      { type: 'incident.ticket.created' },
      { type: 'audit.entry.written' },
    ]);
    // The others resume; the new pattern joins resumed after the same position.
    await waitReceived(page, 'incidents', [during[0]!]);
    expect(await waitReceived(page, 'audit-late', [during[1]!])).toEqual([
      { position: during[1], replayed: false, type: 'audit.entry.written' },
    ]);
    await waitFor(
      () => errors.some((e) => e.includes('the hub refused the subscription')),
      'the refusal on the console',
    );
    expect(await received(page, 'bad-filter')).toEqual([]);
  });

  it('refreshes its credential on expiring instead of losing the stream', async () => {
    const tenant = 'refresh';
    const context = await newContext();
    // Tokens that live 4 s: the hub says expiring after 2 s, the shell asks for a new one.
    let minted = 0;
    await context.exposeFunction('mintToken', () => {
      minted++;
      return h.hub.hub.devIssuer!.mint({ tenant, scopes: ['events:read'], ttlSeconds: 4 });
    });
    const path = await portal(tenant, 'sse', 'window.mintToken()');
    const streams: string[] = [];
    context.on('request', (request) => {
      if (new URL(request.url()).pathname === '/v1/stream') streams.push(request.url());
    });
    const page = await h.open(context, path);
    await waitOpen(page);
    const mintedAtOpen = minted;
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // past the first token's expiry
    const [after] = await h.hub.publish(tenant, [{ type: 'incident.ticket.created' }]);
    await waitReceived(page, 'incidents', [after!]);
    expect(streams).toHaveLength(1);
    expect(minted).toBeGreaterThan(mintedAtOpen);
  }, 15_000);
});

/** Counts the page's pending 15 s timers (the one-shot replays' give-up). */
const TRACK_GIVE_UPS = `(() => {
  const set = setTimeout;
  const clear = clearTimeout;
  const pending = (window.giveUpTimers = new Set());
  window.setTimeout = (fn, ms, ...args) => {
    if (ms !== 15000) return set(fn, ms, ...args);
    const id = set(() => {
      pending.delete(id);
      fn(...args);
    }, ms);
    pending.add(id);
    return id;
  };
  window.clearTimeout = (id) => {
    pending.delete(id);
    clear(id);
  };
})();`;

describe("a one-shot replay's give-up timer", () => {
  it('ends when the replay ends, and when the subscription leaves before it', async () => {
    const tenant = 'give-up';
    const old = await h.hub.publish(
      tenant,
      Array.from({ length: 3 }, () => ({ type: 'billing.invoice.paid' })),
    );
    const context = await newContext();
    await context.addInitScript(TRACK_GIVE_UPS);
    // Once `refuse` is set, the hub never hears of a one-shot replay: it stays pending.
    let refuse = false;
    await refuseOneShotReplays(context, () => refuse);
    const page = await h.open(context, await portal(tenant));
    await waitOpen(page);
    await hubSubscriptions(2, 'incident.> and billing.> live');
    const pendingTimers = () =>
      page.evaluate(() => (window as unknown as { giveUpTimers: Set<unknown> }).giveUpTimers.size);

    await mountLate(page, 'billing-late', 'billing.>', 2);
    await waitReceived(page, 'billing-late', old.slice(1));
    expect(await pendingTimers()).toBe(0);

    refuse = true;
    await mountLate(page, 'billing-stuck', 'billing.>', 2);
    expect(await pendingTimers()).toBe(1);
    const [during] = await h.hub.publish(tenant, [{ type: 'billing.invoice.paid' }]);
    await waitReceived(page, 'billing', [during!]);
    expect(await received(page, 'billing-stuck')).toEqual([]); // held for its replay
    await page.evaluate(() =>
      (window as unknown as { unmount: Record<string, () => void> }).unmount['billing-stuck']!(),
    );
    expect(await pendingTimers()).toBe(0);
    expect(await received(page, 'billing-stuck')).toEqual([]);
  });
});

describe('replay in a tab that has not heard the other tabs yet', () => {
  it('gets the last N of a pattern another tab already has live', async () => {
    const tenant = 'early-replay';
    const old = await h.hub.publish(
      tenant,
      Array.from({ length: 4 }, () => ({ type: 'billing.invoice.paid' })),
    );
    const path = await portal(tenant);
    const context = await newContext();
    const leader = await h.open(context, path);
    expect((await waitOpen(leader)).leader).toBe(true);
    await hubSubscriptions(2, 'incident.> and billing.> live');
    const tab = await h.open(context, `${path}#early-replay`);
    const replayed = old.slice(1).map((position) => ({
      position,
      replayed: true,
      type: 'billing.invoice.paid',
    }));
    expect(await waitReceived(tab, 'billing-early', old.slice(1))).toEqual(replayed);
    const [live] = await h.hub.publish(tenant, [{ type: 'billing.invoice.paid' }]);
    const liveOne = { position: live, replayed: false, type: 'billing.invoice.paid' };
    expect(await waitReceived(tab, 'billing-early', [live!])).toEqual([...replayed, liveOne]);
    expect(await waitReceived(tab, 'billing', [live!])).toEqual([liveOne]);
    expect(await h.pushConnections()).toBe(1);
  });
});

describe('a tab that crashes', () => {
  it('has its wants dropped from the connection although it said no bye', async () => {
    const tenant = 'crash';
    const path = await portal(tenant);
    const context = await newContext();
    const leader = await h.open(context, path);
    expect((await waitOpen(leader)).leader).toBe(true);
    const follower = await h.open(context, path);
    expect((await waitOpen(follower)).leader).toBe(false);
    await mountLate(follower, 'audit', 'audit.>', 0);
    await hubSubscriptions(3, "the follower's audit.> on the connection");
    // The renderer dies: no pagehide, no bye on the channel.
    await crash(context, follower);
    await hubSubscriptions(2, "the crashed tab's audit.> to leave the connection");
    const [inc] = await h.hub.publish(tenant, [{ type: 'incident.ticket.created' }]);
    await waitReceived(leader, 'incidents', [inc!]);
    expect(await h.pushConnections()).toBe(1);
  });

  it('has its wants dropped by the tab that takes over when it led', async () => {
    const tenant = 'crash-leader';
    const path = await portal(tenant);
    const context = await newContext();
    const leader = await h.open(context, path);
    expect((await waitOpen(leader)).leader).toBe(true);
    const follower = await h.open(context, path);
    expect((await waitOpen(follower)).leader).toBe(false);
    await mountLate(leader, 'audit', 'audit.>', 0);
    await hubSubscriptions(3, "the leader's audit.> on the connection");
    await crash(context, leader);
    await follower.waitForFunction(
      () => (window as unknown as { connection?: { leader: boolean } }).connection?.leader === true,
    );
    await waitFor(
      async () =>
        (await h.pushConnections()) === 1 &&
        (await h.hub.metric('portico_push_subscriptions')) === 2,
      "the new leader's connection without the crashed tab's audit.>",
    );
  });
});

describe('a one-shot replay and a reconnect', () => {
  it('runs again on the new connection instead of resuming without its replay', async () => {
    const tenant = 'replay-reconnect';
    const old = await h.hub.publish(
      tenant,
      Array.from({ length: 3 }, () => ({ type: 'billing.invoice.paid' })),
    );
    const context = await newContext();
    // The first connection never gets the one-shot replay: it is still pending when the
    // connection drops.
    let refuse = true;
    await refuseOneShotReplays(context, () => refuse);
    const page = await h.open(context, await portal(tenant));
    await waitOpen(page);
    await hubSubscriptions(2, 'incident.> and billing.> live');
    await mountLate(page, 'billing-late', 'billing.>', 2);
    const [during] = await h.hub.publish(tenant, [{ type: 'billing.invoice.paid' }]);
    await waitReceived(page, 'billing', [during!]);
    expect(await received(page, 'billing-late')).toEqual([]); // held for its replay

    refuse = false;
    h.hub.hub.server.server.closeAllConnections();
    // The last 2 when the new connection asks: the older one replayed, the held one live.
    expect(await waitReceived(page, 'billing-late', [old[2]!, during!])).toEqual([
      { position: old[2], replayed: true, type: 'billing.invoice.paid' },
      { position: during, replayed: false, type: 'billing.invoice.paid' },
    ]);
  });
});

describe('a replay asked while the connection is re-established', () => {
  it('still replays the last N of a new pattern', async () => {
    const tenant = 'replay-while-reconnecting';
    const context = await newContext();
    const page = await h.open(context, await portal(tenant));
    await waitOpen(page);
    const audits = await h.hub.publish(
      tenant,
      Array.from({ length: 3 }, () => ({ type: 'audit.entry.written' })),
    );
    const [inc] = await h.hub.publish(tenant, [{ type: 'incident.ticket.created' }]);
    await waitReceived(page, 'incidents', [inc!]); // the tab has a position to resume after
    // Mounted the moment the shell sees its connection drop.
    await page.evaluate(async () => {
      const w = window as unknown as LateWindow & {
        portico: Promise<{ onConnectionChange(l: (c: { state: string }) => void): () => void }>;
      };
      const shell = await w.portico;
      const stop = shell.onConnectionChange((c) => {
        if (c.state !== 'connecting') return;
        stop();
        w.mountLate('audit-late', 'audit.>', 2);
      });
    });
    h.hub.hub.server.server.closeAllConnections();
    expect(await waitReceived(page, 'audit-late', audits.slice(1))).toEqual(
      audits
        .slice(1)
        .map((position) => ({ position, replayed: true, type: 'audit.entry.written' })),
    );
  });
});
