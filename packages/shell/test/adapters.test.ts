/**
 * The adapters in a real browser: `<portico-mfe>` and `<ShellProvider>` give a micro-frontend
 * the shell as itself (its bus events are sent with its id, its push subscriptions are made
 * with its id) and end its subscriptions when it unmounts. The shell here is a real bus with a
 * recording stand-in for push subscriptions, so the adapters are tested on their own.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../hub/src/testing/wait-for.ts';
import { BUNDLE_PATH, startShellHarness, type ShellHarness } from './browser-harness.ts';

let h: ShellHarness;
let page: Page;

type PushSub = { mfeId: string; topic: string; options?: unknown; active: boolean };
type TestWindow = {
  shellEvents: { type: string; from?: string; data: unknown }[];
  pushSubs: PushSub[];
  publish(type: string, data: unknown): void;
  push(topic: string, data: unknown): void;
  renderPanel(): void;
  unmountPanel(): void;
  renderCyclic(): Promise<{ name: string; code: string; message: string }>;
  renders: number;
};

// The page's stand-in shell: a real bus; push subscriptions recorded and fed by window.push.
const FAKE_SHELL = `
  const bus = createBus({ dev: false });
  window.shellEvents = [];
  bus.subscribe('>', (e) => window.shellEvents.push(e));
  window.publish = (type, data) => bus.publish(type, data, { from: 'shell' });
  window.pushSubs = [];
  const handlers = new Map();
  // Feeds the subscriptions made with exactly this pattern (the stand-in does not match topics).
  window.push = (topic, data) => {
    for (const s of window.pushSubs)
      if (s.active && s.topic === topic)
        handlers.get(s)({ topic, position: 1, event: { specversion: '1.0', id: '1', source: '/t', type: 't', data } });
  };
  const shell = {
    bus,
    dictionary: { tenant: 'acme', domains: [], settings: {} },
    api: () => 'http://example.test',
    settings: () => ({}),
    subscribe(mfeId, topic, handler, options) {
      const s = { mfeId, topic, options, active: true };
      window.pushSubs.push(s);
      handlers.set(s, handler);
      return () => { s.active = false; };
    },
    connection: { state: 'open', leader: true },
    onConnectionChange: () => () => {},
    close: async () => {},
  };
`;

beforeAll(async () => {
  h = await startShellHarness({
    entry: fileURLToPath(new URL('./adapters-entry.ts', import.meta.url)),
  });
  h.serve(
    '/mfe/incidents.js',
    `customElements.define('incidents-list', class extends HTMLElement {
  connectedCallback() {
    const ctx = this.portico;
    this.dataset.mfe = ctx.mfeId;
    ctx.bus.subscribe('portal.theme.changed', (e) => {
      this.dataset.theme = e.data.theme;
      ctx.bus.publish('incident.theme.applied', { theme: e.data.theme });
    });
    ctx.subscribe('incident.dev.ticket.created', (m) => { this.textContent = m.event.data.title; }, { replay: 5 });
  }
});`,
  );
  h.serve(
    '/web-component.html',
    `<!doctype html><html><body>
<portico-mfe id="incidents" mfe-id="incidents" src="/mfe/incidents.js" element="incidents-list"></portico-mfe>
<portico-mfe id="status" mfe-id="status"><status-badge></status-badge></portico-mfe>
<script type="module">
  import { createBus, defineMfeElement, requestMfeContext } from '${BUNDLE_PATH}';
  ${FAKE_SHELL}
  defineMfeElement({ shell });
  // A descendant that asks for its context with the context-request protocol.
  customElements.define('status-badge', class extends HTMLElement {
    connectedCallback() { this.dataset.mfe = requestMfeContext(this)?.mfeId ?? 'none'; }
  });
</script>
</body></html>`,
  );
  h.serve(
    '/react.html',
    `<!doctype html><html><body><div id="root"></div>
<script type="module">
  import { createBus, createElement, createRoot, useState, ShellProvider, useShell, useBusEvent, useSubscription } from '${BUNDLE_PATH}';
  ${FAKE_SHELL}
  window.renders = 0;
  function Panel() {
    const { mfeId, bus } = useShell();
    const [theme, setTheme] = useState('light');
    const [paid, setPaid] = useState('');
    window.renders++;
    useBusEvent('portal.theme.changed', (e) => {
      setTheme(e.data.theme);
      bus.publish('billing.theme.applied', { theme: e.data.theme });
    });
    useSubscription('billing.*.invoice.paid', (m) => setPaid(m.event.data.id), {
      replay: 3,
      filter: { data: { amount: [{ numeric: ['>', 0] }] } },
    });
    return createElement('div', { id: 'panel', 'data-mfe': mfeId, 'data-theme': theme }, paid);
  }
  const root = createRoot(document.getElementById('root'));
  window.renderPanel = () => root.render(createElement(ShellProvider, { shell, mfeId: 'billing' }, createElement(Panel)));
  window.unmountPanel = () => root.render(null);
  window.renderPanel();
  // A component whose filter cannot be sent: the error React reports for it.
  window.renderCyclic = () => new Promise((resolve) => {
    const filter = { data: {} };
    filter.data.self = filter;
    function Cyclic() { useSubscription('billing.>', () => {}, { filter }); return null; }
    const element = document.body.appendChild(document.createElement('div'));
    createRoot(element, { onUncaughtError: (e) => resolve({ name: e.name, code: e.code, message: e.message }) })
      .render(createElement(ShellProvider, { shell, mfeId: 'billing' }, createElement(Cyclic)));
  });
</script>
</body></html>`,
  );
  page = await h.open(await h.newContext(), '/web-component.html');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const attribute = (selector: string, name: string) =>
  waitFor(
    () => page.getAttribute(selector, name).then((v) => v ?? undefined),
    `${selector}[${name}]`,
  );

describe('<portico-mfe>', () => {
  it('mounts the micro-frontend with the shell as itself', async () => {
    expect(await attribute('incidents-list', 'data-mfe')).toBe('incidents');
    expect(await attribute('status-badge', 'data-mfe')).toBe('status');

    await page.evaluate(() =>
      (window as unknown as TestWindow).publish('portal.theme.changed', { theme: 'dark' }),
    );
    expect(await attribute('incidents-list', 'data-theme')).toBe('dark');
    const applied = await waitFor(
      () =>
        page.evaluate(() =>
          (window as unknown as TestWindow).shellEvents.find(
            (e) => e.type === 'incident.theme.applied',
          ),
        ),
      'the micro-frontend event',
    );
    expect(applied).toMatchObject({ from: 'incidents', data: { theme: 'dark' } });

    expect(await page.evaluate(() => (window as unknown as TestWindow).pushSubs)).toEqual([
      {
        mfeId: 'incidents',
        topic: 'incident.dev.ticket.created',
        options: { replay: 5 },
        active: true,
      },
    ]);
    await page.evaluate(() =>
      (window as unknown as TestWindow).push('incident.dev.ticket.created', {
        title: 'Printer on fire',
      }),
    );
    expect(await page.textContent('incidents-list')).toBe('Printer on fire');
  });

  it('ends the micro-frontend subscriptions when it leaves the page', async () => {
    await page.evaluate(() => document.getElementById('incidents')!.remove());
    expect(
      await page.evaluate(() => (window as unknown as TestWindow).pushSubs.map((s) => s.active)),
    ).toEqual([false]);
    const before = await page.evaluate(() => (window as unknown as TestWindow).shellEvents.length);
    await page.evaluate(() =>
      (window as unknown as TestWindow).publish('portal.theme.changed', { theme: 'light' }),
    );
    await waitFor(
      () => page.evaluate((n) => (window as unknown as TestWindow).shellEvents.length > n, before),
      'the shell event itself',
    );
    // Its bus handler is gone: it did not answer with incident.theme.applied again.
    const types = await page.evaluate(() =>
      (window as unknown as TestWindow).shellEvents.map((e) => e.type),
    );
    expect(types.filter((t) => t === 'incident.theme.applied')).toHaveLength(1);
  });

  it('fires portico-mfe-error when `element` is not an element name', async () => {
    const outcome = await page.evaluate(
      () =>
        new Promise((resolve) => {
          window.addEventListener('unhandledrejection', (e) =>
            resolve({ unhandled: String(e.reason) }),
          );
          const mfe = document.createElement('portico-mfe');
          mfe.setAttribute('mfe-id', 'broken');
          mfe.setAttribute('element', '1 list');
          mfe.addEventListener('portico-mfe-error', (e) => {
            const { mfeId, error } = (e as CustomEvent<{ mfeId: string; error: Error }>).detail;
            resolve({ mfeId, error: error.name });
          });
          mfe.addEventListener('portico-mfe-mounted', () => resolve({ mounted: true }));
          document.body.append(mfe);
        }),
    );
    expect(outcome).toEqual({ mfeId: 'broken', error: 'InvalidCharacterError' });
  });
});

describe('<ShellProvider> and hooks', () => {
  it('gives the component its context, bus events and push messages, subscribing once', async () => {
    page = await h.open(await h.newContext(), '/react.html');
    expect(await attribute('#panel', 'data-mfe')).toBe('billing');
    await page.evaluate(() =>
      (window as unknown as TestWindow).publish('portal.theme.changed', { theme: 'dark' }),
    );
    await waitFor(
      () => page.getAttribute('#panel', 'data-theme').then((t) => t === 'dark'),
      'the theme in the panel',
    );
    const applied = await waitFor(
      () =>
        page.evaluate(() =>
          (window as unknown as TestWindow).shellEvents.find(
            (e) => e.type === 'billing.theme.applied',
          ),
        ),
      'the component event',
    );
    expect(applied).toMatchObject({ from: 'billing' });

    await page.evaluate(() =>
      (window as unknown as TestWindow).push('billing.*.invoice.paid', { id: 'INV-7' }),
    );
    await waitFor(
      () => page.textContent('#panel').then((t) => t === 'INV-7'),
      'the push message in the panel',
    );
    // Re-renders (new handler functions, a new filter object) did not resubscribe.
    expect(await page.evaluate(() => (window as unknown as TestWindow).renders)).toBeGreaterThan(2);
    expect(await page.evaluate(() => (window as unknown as TestWindow).pushSubs)).toEqual([
      {
        mfeId: 'billing',
        topic: 'billing.*.invoice.paid',
        options: { replay: 3, filter: { data: { amount: [{ numeric: ['>', 0] }] } } },
        active: true,
      },
    ]);
  });

  it('ends the subscriptions when the component unmounts', async () => {
    await page.evaluate(() => (window as unknown as TestWindow).unmountPanel());
    await waitFor(
      () => page.evaluate(() => (window as unknown as TestWindow).pushSubs.every((s) => !s.active)),
      'the push subscription to end',
    );
    const before = await page.evaluate(() => (window as unknown as TestWindow).shellEvents.length);
    await page.evaluate(() =>
      (window as unknown as TestWindow).publish('portal.theme.changed', { theme: 'light' }),
    );
    await waitFor(
      () => page.evaluate((n) => (window as unknown as TestWindow).shellEvents.length > n, before),
      'the shell event',
    );
    const types = await page.evaluate(() =>
      (window as unknown as TestWindow).shellEvents.map((e) => e.type),
    );
    expect(types.filter((t) => t === 'billing.theme.applied')).toHaveLength(1);
  });

  it('refuses a filter that cannot be sent as JSON with ShellError invalid, not a TypeError', async () => {
    page = await h.open(await h.newContext(), '/react.html');
    const error = await page.evaluate(() => (window as unknown as TestWindow).renderCyclic());
    expect(error).toMatchObject({ name: 'ShellError', code: 'invalid' });
    expect(error.message).toContain('filter cannot be sent to the hub as JSON');
  });
});
