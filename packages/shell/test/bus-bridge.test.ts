/**
 * The iframe bridge in a real browser: a sandboxed iframe on another origin shares the shell's
 * bus both ways; a frame on an origin the shell does not allow is refused and reported, and
 * nothing it sends reaches the bus.
 */
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../hub/src/testing/wait-for.ts';
import { BUNDLE_PATH, startShellHarness, type ShellHarness } from './browser-harness.ts';

const WIDGET = 'http://widget.localhost:5201';
const ROGUE = 'http://rogue.localhost:5202';

let h: ShellHarness;
let page: Page;

const frameOn = (origin: string) =>
  waitFor(() => page.frames().find((f) => f.url().startsWith(origin)), `a frame on ${origin}`);
const inFrame = <T>(frame: Frame, expression: string) => frame.evaluate(expression) as Promise<T>;

beforeAll(async () => {
  h = await startShellHarness();
  // The shell page: one bus that allows the widget's origin only.
  h.serve(
    '/bridge.html',
    `<!doctype html><html><body>
<script type="module">
  import { createBus, bridgeIframe, onBridgeRefused } from '${BUNDLE_PATH}';
  // Dev mode, with the contracts inline: the widget's events are checked as the widget's.
  const contracts = {
    'portal.theme.changed': { schema: null, publishers: ['shell'] },
    'widget.theme.applied': { schema: null, publishers: ['weather-widget'] },
    'widget.frame.ready': {
      schema: { type: 'object', properties: { ready: { type: 'boolean' } } },
      publishers: ['weather-widget'],
    },
  };
  const bus = createBus({
    dev: true,
    loadContracts: async () => contracts,
    bridgeOrigins: [${JSON.stringify(WIDGET)}],
  });
  window.violations = [];
  bus.onViolation((v) => window.violations.push(v));
  window.bus = bus;
  window.bridgeIframe = bridgeIframe;
  window.received = [];
  bus.subscribe('>', (e) => window.received.push(e));
  window.refusals = [];
  onBridgeRefused(bus, (r) => window.refusals.push({ origin: r.origin, reason: r.reason }));
  try {
    bridgeIframe(bus, document.createElement('iframe'), { origin: ${JSON.stringify(ROGUE)} });
  } catch (e) {
    window.bridgeRogueError = String(e);
  }
  const widget = document.createElement('iframe');
  widget.setAttribute('sandbox', 'allow-scripts');
  widget.src = ${JSON.stringify(`${WIDGET}/widget.html`)};
  bridgeIframe(bus, widget, { origin: ${JSON.stringify(WIDGET)}, mfeId: 'weather-widget' });
  document.body.append(widget);
</script>
</body></html>`,
  );
  // The bridged widget: sandboxed (opaque origin), answers the shell's theme with its own event.
  h.serve(
    `${WIDGET}/widget.html`,
    `<!doctype html><html><body>
<script type="module">
  import { connectToShell } from '${BUNDLE_PATH}';
  const bus = await connectToShell({ parentOrigin: ${JSON.stringify(h.origin)} });
  window.got = [];
  window.violations = [];
  bus.onViolation((v) => window.violations.push(v));
  bus.subscribe('portal.theme.changed', (e) => {
    window.got.push(e);
    bus.publish('widget.theme.applied', { theme: e.data.theme });
  });
  // It claims to be someone else: the shell sends its events as the bridged mfeId.
  bus.publish('widget.frame.ready', { ready: true }, { from: 'billing' });
  bus.publish('widget.frame.ready', { ready: 'almost' });
</script>
</body></html>`,
  );
  // A frame on an origin the shell never allowed: it tries the handshake, then raw bus traffic.
  h.serve(
    `${ROGUE}/rogue.html`,
    `<!doctype html><html><body>
<script type="module">
  import { connectToShell } from '${BUNDLE_PATH}';
  const parentOrigin = ${JSON.stringify(h.origin)};
  parent.postMessage(
    { 'portico-bus-bridge': 1, kind: 'publish', type: 'rogue.data.stolen', data: {} },
    parentOrigin,
  );
  window.result = await connectToShell({ parentOrigin, timeoutMs: 1500 }).then(
    () => 'connected',
    (e) => 'refused: ' + e.message,
  );
</script>
</body></html>`,
  );
  // A bridged frame that navigates itself to another origin: that document is refused.
  h.serve(
    `${WIDGET}/hop.html`,
    `<!doctype html><script>location.href = ${JSON.stringify(`${ROGUE}/rogue.html`)};</script>`,
  );
  // A second shell page (no dev checks): frames bridged on demand, and the subscriptions
  // bridged frames hold on its bus counted.
  h.serve(
    '/bridge-frames.html',
    `<!doctype html><html><body>
<script type="module">
  import { createBus, bridgeIframe, onBridgeRefused } from '${BUNDLE_PATH}';
  const bus = createBus({ dev: false, bridgeOrigins: [${JSON.stringify(WIDGET)}] });
  window.received = [];
  bus.subscribe('>', (e) => window.received.push(e));
  window.refusals = [];
  onBridgeRefused(bus, (r) => window.refusals.push({ origin: r.origin, reason: r.reason }));
  window.frameSubscriptions = 0;
  const subscribe = bus.subscribe.bind(bus);
  bus.subscribe = (pattern, handler, options) => {
    const stop = subscribe(pattern, handler, options);
    if (!options?.mfeId) return stop;
    window.frameSubscriptions++;
    let on = true;
    return () => {
      if (on) window.frameSubscriptions--;
      on = false;
      stop();
    };
  };
  window.bridge = (path, mfeId, afterLoad) => {
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', 'allow-scripts');
    frame.src = ${JSON.stringify(WIDGET)} + path;
    const bridge = () =>
      bridgeIframe(bus, frame, { origin: ${JSON.stringify(WIDGET)}, ...(mfeId && { mfeId }) });
    if (afterLoad) frame.addEventListener('load', bridge, { once: true });
    else bridge();
    document.body.append(frame);
  };
</script>
</body></html>`,
  );
  const connect = `const bus = await connectToShell({ parentOrigin: ${JSON.stringify(h.origin)}, timeoutMs: 1500 });`;
  // Bridged without an mfeId: it claims to be billing, then sends as nobody.
  h.serve(
    `${WIDGET}/anonymous.html`,
    `<!doctype html><script type="module">
  import { connectToShell } from '${BUNDLE_PATH}';
  ${connect}
  bus.publish('widget.claim.sent', {}, { from: 'billing' });
  bus.publish('widget.plain.sent', {});
</script>`,
  );
  // Connects, reloads itself (the same URL: still bridged), then follows a link to another
  // page of its own origin: sandboxed, that page shares the frame's window and opaque origin.
  h.serve(
    `${WIDGET}/navigating.html`,
    `<!doctype html><script type="module">
  import { connectToShell } from '${BUNDLE_PATH}';
  ${connect}
  if (window.name !== 'reloaded') {
    window.name = 'reloaded';
    location.reload();
  } else {
    bus.publish('widget.reload.connected', {});
    location.href = '/next.html';
  }
</script>`,
  );
  h.serve(
    `${WIDGET}/next.html`,
    `<!doctype html><script type="module">
  import { connectToShell } from '${BUNDLE_PATH}';
  window.result = await connectToShell({ parentOrigin: ${JSON.stringify(h.origin)}, timeoutMs: 1500 }).then(
    (bus) => (bus.publish('widget.next.stolen', {}), 'connected'),
    (e) => 'refused: ' + e.message,
  );
</script>`,
  );
  // Subscribes twice, and closes its bus when told.
  h.serve(
    `${WIDGET}/closing.html`,
    `<!doctype html><script type="module">
  import { connectToShell } from '${BUNDLE_PATH}';
  ${connect}
  bus.subscribe('portal.theme.changed', () => {});
  bus.subscribe('portal.user.>', () => {});
  window.closeBus = () => bus.close();
</script>`,
  );
  // Bridged only once its document has loaded: its first hellos carry no nonce.
  h.serve(
    `${WIDGET}/loaded-first.html`,
    `<!doctype html><script type="module">
  import { connectToShell } from '${BUNDLE_PATH}';
  const bus = await connectToShell({ parentOrigin: ${JSON.stringify(h.origin)} });
  bus.publish('widget.late.connected', {});
</script>`,
  );
  const context = await h.newContext();
  page = await h.open(context, '/bridge.html');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('iframe bridge', () => {
  it('carries events both ways between the shell and a sandboxed iframe on an allowed origin', async () => {
    const ready = await waitFor(
      () =>
        page.evaluate(() =>
          (
            window as unknown as { received: { type: string; from?: string; data: unknown }[] }
          ).received.find((e) => e.type === 'widget.frame.ready'),
        ),
      'the widget event on the shell bus',
    );
    // Sent as the bridged micro-frontend, not as whoever the iframe claimed to be.
    expect(ready).toMatchObject({ from: 'weather-widget', data: { ready: true } });

    await page.evaluate(() =>
      (
        window as unknown as { bus: { publish(t: string, d: unknown, o: object): void } }
      ).bus.publish('portal.theme.changed', { theme: 'dark' }, { from: 'shell' }),
    );
    const widget = await frameOn(WIDGET);
    const got = await waitFor(
      () =>
        inFrame<{ type: string; data: { theme: string }; from: string }[]>(
          widget,
          'window.got',
        ).then((g) => (g?.length ? g : undefined)),
      'the shell event in the iframe',
    );
    expect(got[0]).toMatchObject({
      type: 'portal.theme.changed',
      data: { theme: 'dark' },
      from: 'shell',
    });
    const applied = await waitFor(
      () =>
        page.evaluate(() =>
          (window as unknown as { received: { type: string }[] }).received.find(
            (e) => e.type === 'widget.theme.applied',
          ),
        ),
      'the widget answer on the shell bus',
    );
    expect(applied).toMatchObject({ data: { theme: 'dark' }, from: 'weather-widget' });
    // The origin of a sandboxed iframe is opaque: it sends as "null" (the window check did the work).
    expect(await inFrame(widget, 'location.origin')).toBe(WIDGET);
    expect(await inFrame(widget, 'self.origin')).toBe('null');
  });

  it('refuses a frame on an unknown origin and reports it; nothing it sent reaches the bus', async () => {
    expect(
      await page.evaluate(
        () => (window as unknown as { bridgeRogueError?: string }).bridgeRogueError,
      ),
    ).toMatch(
      /origin http:\/\/rogue\.localhost:5202 is not in the shell's bridgeOrigins \(http:\/\/widget\.localhost:5201\)/,
    );
    await page.evaluate((src) => {
      const rogue = document.createElement('iframe');
      rogue.src = src;
      document.body.append(rogue);
    }, `${ROGUE}/rogue.html`);
    const rogue = await frameOn(ROGUE);
    const result = await waitFor(
      () => inFrame<string | undefined>(rogue, 'window.result'),
      "the rogue frame's handshake",
    );
    expect(result).toMatch(
      /^refused: the shell at http:\/\/127\.0\.0\.1:\d+ did not accept the bridge/,
    );

    const { received, refusals } = await page.evaluate(() => {
      const w = window as unknown as { received: { type: string }[]; refusals: unknown[] };
      return { received: w.received.map((e) => e.type), refusals: w.refusals };
    });
    expect(received.filter((t) => t.startsWith('rogue.'))).toEqual([]);
    expect(received).toContain('widget.frame.ready');
    // Reported once per reason, not once per retried hello.
    expect(refusals).toEqual([{ origin: ROGUE, reason: 'the sender is not a bridged iframe' }]);
  });

  it('refuses a bridged frame once it shows a document from another origin', async () => {
    await page.evaluate(
      ({ src, origin }) => {
        const w = window as unknown as {
          refusals: unknown[];
          bus: unknown;
          bridgeIframe: (bus: unknown, f: HTMLIFrameElement, o: object) => void;
        };
        w.refusals.length = 0;
        const hop = document.createElement('iframe');
        hop.src = src;
        w.bridgeIframe(w.bus, hop, { origin, mfeId: 'hopper' });
        document.body.append(hop);
      },
      { src: `${WIDGET}/hop.html`, origin: WIDGET },
    );
    const refusals = await waitFor(
      () =>
        page.evaluate(() => {
          const r = (window as unknown as { refusals: unknown[] }).refusals;
          return r.length ? r : undefined;
        }),
      'the refusal of the navigated frame',
    );
    expect(refusals).toEqual([
      { origin: ROGUE, reason: `the bridged iframe's origin is ${WIDGET}` },
    ]);
  });

  it("reports a bridged frame's contract violation as its micro-frontend, on both sides", async () => {
    const expected = {
      type: 'widget.frame.ready',
      from: 'weather-widget',
      errors: [{ pointer: '/ready', detail: expect.stringMatching(/Expected "boolean"/) }],
    };
    const shellSide = await waitFor(
      () =>
        page.evaluate(() => {
          const v = (window as unknown as { violations: unknown[] }).violations;
          return v.length ? v : undefined;
        }),
      'the violation in the shell',
    );
    // Only the bad payload: the good one, the theme answer and the rogue frames are not violations.
    expect(shellSide).toEqual([expected]);
    const widget = await frameOn(WIDGET);
    const frameSide = await waitFor(
      () =>
        inFrame<unknown[]>(widget, 'window.violations').then((v) => (v?.length ? v : undefined)),
      'the violation forwarded to the iframe',
    );
    expect(frameSide).toEqual([expected]);
  });
});

describe('iframe bridge: identity and lifetime', () => {
  let shell: Page;
  type ShellWindow = {
    received: { type: string; from?: string }[];
    refusals: { origin: string; reason: string }[];
    frameSubscriptions: number;
    bridge(path: string, mfeId?: string, afterLoad?: boolean): void;
  };
  const state = () =>
    shell.evaluate(() => {
      const w = window as unknown as ShellWindow;
      return {
        received: w.received.map((e) => ({ type: e.type, from: e.from })),
        refusals: [...w.refusals],
        frameSubscriptions: w.frameSubscriptions,
      };
    });
  const bridge = (path: string, mfeId?: string, afterLoad = false) =>
    shell.evaluate(
      ({ path, mfeId, afterLoad }) =>
        (window as unknown as ShellWindow).bridge(path, mfeId, afterLoad),
      { path, mfeId, afterLoad },
    );

  beforeAll(async () => {
    shell = await h.open(await h.newContext(), '/bridge-frames.html');
    await shell.waitForFunction(() => 'bridge' in window);
  });

  it('refuses a claimed sender from a frame bridged without an mfeId', async () => {
    await bridge('/anonymous.html');
    await waitFor(
      async () => (await state()).received.some((e) => e.type === 'widget.plain.sent'),
      'the plain event on the shell bus',
    );
    const { received, refusals } = await state();
    expect(received).toEqual([{ type: 'widget.plain.sent' }]);
    expect(refusals).toEqual([
      {
        origin: WIDGET,
        reason: 'publish: this frame was bridged without an mfeId: it cannot send as "billing"',
      },
    ]);
  });

  it('keeps the bridge for a reloaded frame, not for a page the frame navigates to', async () => {
    await bridge('/navigating.html', 'navigator');
    const next = await waitFor(
      () => shell.frames().find((f) => f.url().startsWith(`${WIDGET}/next.html`)),
      'the frame on its next page',
    );
    const result = await waitFor(
      () => inFrame<string | undefined>(next, 'window.result'),
      "the next page's handshake",
    );
    expect(result).toMatch(/^refused: the shell at .* did not accept the bridge/);
    const { received, refusals } = await state();
    // The reloaded document (same URL, same fragment) connected again; the next page did not.
    expect(received.filter((e) => e.type.startsWith('widget.') && e.from === 'navigator')).toEqual([
      { type: 'widget.reload.connected', from: 'navigator' },
    ]);
    expect(refusals).toContainEqual({
      origin: 'null',
      reason: 'the hello lacks the nonce given to this frame (a document the frame navigated to)',
    });
  });

  it('bridges a frame whose document loaded before the shell bridged it', async () => {
    await bridge('/loaded-first.html', 'loaded-first', true);
    await waitFor(
      async () =>
        (await state()).received.some(
          (e) => e.type === 'widget.late.connected' && e.from === 'loaded-first',
        ),
      'the frame bridged after its load to connect',
    );
  });

  it("drops a frame's subscriptions when its bus closes", async () => {
    const before = (await state()).frameSubscriptions;
    await bridge('/closing.html', 'closing');
    await waitFor(
      async () => (await state()).frameSubscriptions === before + 2,
      "the closing frame's two subscriptions",
    );
    const frame = await waitFor(
      () => shell.frames().find((f) => f.url().startsWith(`${WIDGET}/closing.html`)),
      'the closing frame',
    );
    await frame.evaluate('window.closeBus()');
    await waitFor(
      async () => (await state()).frameSubscriptions === before,
      'the subscriptions to end on the shell bus',
    );
  });
});
