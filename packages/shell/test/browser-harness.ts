/**
 * The shell SDK's browser test bench (not a test file): a listening test hub, headless
 * Chromium (Debian's, /usr/bin/chromium or PORTICO_CHROMIUM), and browser contexts in which
 * the portal's pages and the shell bundle are served by request interception, so nothing
 * but the hub listens and all traffic stays on loopback.
 *
 * Pages live on `harness.origin`. By default that is the hub's own origin (no CORS needed);
 * `pageOrigin: CROSS_ORIGIN` puts them on another origin, for tests of the hub's CORS.
 * The shell bundle (esbuild, in memory) is at `${origin}/__shell/portico-shell.js`:
 *
 * ```html
 * <script type="module">
 *   import { createShell } from '/__shell/portico-shell.js';
 * </script>
 * ```
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../hub/src/testing/chromium.ts';
import { startPushHub, type PushHub } from '../../hub/src/push/push-test-kit.ts';
import { bundleShell, SHELL_ENTRY } from '../scripts/bundle.ts';

// Fixture pages are fulfilled by interception, so Chromium cannot place them in the
// loopback address space and its Local Network Access checks would block their WebSocket
// to the (loopback) hub; a real page served from the hub's host is not affected.
const CHROMIUM_ARGS = ['--disable-features=LocalNetworkAccessChecks'];

/** A page origin other than the hub's (a secure context: `*.localhost` is loopback). */
export const CROSS_ORIGIN = 'http://portal.localhost:5199';
export const BUNDLE_PATH = '/__shell/portico-shell.js';

export type Fixture = { body: string; contentType: string };

export type ShellHarness = {
  /** The listening hub, with `publish`, `metric`, `token`, `auth` (see push-test-kit.ts). */
  hub: PushHub;
  /** The hub's base URL, what pages pass to `createShell({ hub })`. */
  hubUrl: string;
  /** Where the fixture pages are served. */
  origin: string;
  browser: Browser;
  /**
   * Serves `body` at `${origin}${path}` in every context of this harness; an absolute URL
   * (`http://widget.localhost:5201/w.html`) serves it on that origin instead. The bundle is at
   * BUNDLE_PATH on every origin served, and fixtures carry `access-control-allow-origin: *`
   * (a sandboxed iframe's opaque origin fetches even its own module scripts with CORS).
   */
  serve(pathOrUrl: string, body: string, contentType?: string): void;
  /** A new browser context (a separate "browser": own cookies, locks, channels). */
  newContext(): Promise<BrowserContext>;
  /** Opens `${origin}${path}` in a new tab of `context`; page errors fail loudly in the log. */
  open(context: BrowserContext, path: string): Promise<Page>;
  /** Open push connections on the hub, both wires. */
  pushConnections(): Promise<number>;
  close(): Promise<void>;
};

export type ShellHarnessOptions = {
  /** Hub config overrides (e.g. `{ http: { cors: { origins: [CROSS_ORIGIN] } } }`). */
  hubConfig?: Record<string, unknown>;
  /** Default: the hub's origin. */
  pageOrigin?: string;
  /** The module to bundle; default the SDK's src/index.ts. */
  entry?: string;
};

export async function startShellHarness(options: ShellHarnessOptions = {}): Promise<ShellHarness> {
  // Unminified: stack traces in page errors stay readable.
  const [bundle, hub, browser] = await Promise.all([
    bundleShell(options.entry ?? SHELL_ENTRY, { minify: false }),
    startPushHub(options.hubConfig ?? {}),
    launchChromium(CHROMIUM_ARGS),
  ]);
  const origin = options.pageOrigin ?? hub.base;
  // Keyed by origin + path. The bundle's files (entry and lazy chunks) sit beside BUNDLE_PATH.
  const bundleDir = BUNDLE_PATH.slice(0, BUNDLE_PATH.lastIndexOf('/') + 1);
  const fixtures = new Map<string, Fixture>(
    [...bundle.files].map(([name, code]) => [
      origin + bundleDir + name,
      { body: code, contentType: 'text/javascript' },
    ]),
  );
  const fixtureFor = (url: URL) =>
    fixtures.get(url.origin + url.pathname) ??
    (url.pathname.startsWith(bundleDir) &&
    [...fixtures.keys()].some((k) => k.startsWith(url.origin + '/'))
      ? fixtures.get(origin + url.pathname)
      : undefined);
  const contexts = new Set<BrowserContext>();

  const newContext = async () => {
    const context = await browser.newContext();
    contexts.add(context);
    context.on('close', () => contexts.delete(context));
    await context.route(
      (url) => fixtureFor(url) !== undefined,
      (route) => {
        const fixture = fixtureFor(new URL(route.request().url()))!;
        return route.fulfill({
          status: 200,
          contentType: fixture.contentType,
          body: fixture.body,
          headers: { 'cache-control': 'no-store', 'access-control-allow-origin': '*' },
        });
      },
    );
    return context;
  };

  return {
    hub,
    hubUrl: hub.base,
    origin,
    browser,
    serve(
      pathOrUrl,
      body,
      contentType = pathOrUrl.endsWith('.js') ? 'text/javascript' : 'text/html',
    ) {
      const url = new URL(pathOrUrl, origin);
      fixtures.set(url.origin + url.pathname, { body, contentType });
    },
    newContext,
    async open(context, path) {
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`[page ${path}] ${error.stack ?? error}`));
      await page.goto(`${origin}${path}`);
      return page;
    },
    async pushConnections() {
      const stats = await Promise.all([
        hub.metric('portico_push_connections', { transport: 'sse' }),
        hub.metric('portico_push_connections', { transport: 'ws' }),
      ]);
      return stats[0] + stats[1];
    },
    async close() {
      await Promise.allSettled([...contexts].map((c) => c.close()));
      await browser.close().catch(() => {});
      await hub.close();
    },
  };
}
