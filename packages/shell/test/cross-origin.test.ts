/**
 * The deployment shape: the portal on its own origin, the hub on another (CORS through
 * `http.cors.origins`). The shell loads the dictionary (and revalidates with the exposed
 * ETag), and two tabs share one push connection on both wires.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../hub/src/testing/wait-for.ts';
import {
  BUNDLE_PATH,
  CROSS_ORIGIN,
  startShellHarness,
  type ShellHarness,
} from './browser-harness.ts';

let h: ShellHarness;
const TENANT = 'xorigin';

beforeAll(async () => {
  h = await startShellHarness({
    pageOrigin: CROSS_ORIGIN,
    hubConfig: { http: { cors: { origins: [CROSS_ORIGIN] } } },
  });
  const auth = await h.hub.auth(TENANT, ['dictionary:write']);
  const put = (url: string, payload: object) =>
    h.hub.hub.server.inject({ method: 'PUT', url, headers: auth, payload });
  expect(
    (
      await put('/v1/dictionary/apis/incidents', {
        domain: 'ops',
        versions: [{ version: 'v1', baseUrl: '/api/incidents/v1' }],
      })
    ).statusCode,
  ).toBe(201);
  expect((await put('/v1/dictionary/settings/*', { refreshSeconds: 1 })).statusCode).toBe(200);
  const token = await h.hub.token(TENANT, ['events:read']);
  for (const transport of ['sse', 'ws'])
    h.serve(
      `/portal-${transport}.html`,
      `<!doctype html><html><body><script type="module">
  import { createShell } from '${BUNDLE_PATH}';
  const shell = await createShell({
    hub: ${JSON.stringify(h.hubUrl)},
    transport: '${transport}',
    getToken: () => ${JSON.stringify(token)},
  });
  window.incidentsApi = shell.api('incidents', 'v1');
  window.got = [];
  shell.subscribe('incidents', 'incident.>', (m) => window.got.push(m.position));
  shell.onConnectionChange((c) => { window.connection = c; });
</script></body></html>`,
    );
}, 30_000);

afterAll(async () => {
  await h?.close();
});

const open = (page: Page) =>
  page.waitForFunction(
    () => (window as unknown as { connection?: { state: string } }).connection?.state === 'open',
  );

describe('a portal on another origin than the hub', () => {
  for (const transport of ['sse', 'ws'] as const)
    it(`loads the dictionary and shares one ${transport} connection between two tabs`, async () => {
      const context = await h.newContext();
      const revalidations: number[] = [];
      context.on('response', (response) => {
        if (
          new URL(response.url()).pathname === '/v1/dictionary' &&
          response.request().headers()['if-none-match']
        )
          revalidations.push(response.status());
      });
      const tabs = [
        await h.open(context, `/portal-${transport}.html`),
        await h.open(context, `/portal-${transport}.html`),
      ];
      await Promise.all(tabs.map(open));
      expect(
        await tabs[0]!.evaluate(() => (window as { incidentsApi?: string }).incidentsApi),
      ).toBe(`${h.hubUrl}/api/incidents/v1`);
      const [position] = await h.hub.publish(TENANT, [{ type: 'incident.ticket.created' }]);
      for (const tab of tabs)
        await tab.waitForFunction(
          (p) => (window as unknown as { got: number[] }).got.includes(p),
          position!,
        );
      expect(await h.pushConnections()).toBe(1);
      // The ETag crossed the origin boundary: the page revalidates and gets 304s.
      await waitFor(() => revalidations.includes(304), 'a 304 revalidation');
      await context.close();
      await waitFor(async () => (await h.pushConnections()) === 0, 'the tabs to disconnect');
    });
});
