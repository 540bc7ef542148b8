/**
 * The service dictionary in a real browser: several micro-frontend scripts on one page get
 * it from one shell (one fetch); the override id (URL flag or staff cookie) switches one
 * API's URL for that browser only; `app` loads the vertical split.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../hub/src/testing/wait-for.ts';
import { BUNDLE_PATH, startShellHarness, type ShellHarness } from './browser-harness.ts';

let h: ShellHarness;
let adminAuth: { authorization: string };

const TENANT = 'acme';

beforeAll(async () => {
  h = await startShellHarness();
  adminAuth = await h.hub.auth(TENANT, ['dictionary:write']);
  const put = async (name: string, body: object) => {
    const res = await h.hub.hub.server.inject({
      method: 'PUT',
      url: `/v1/dictionary/apis/${name}`,
      headers: adminAuth,
      payload: body,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
  };
  await put('catalog', {
    domain: 'catalogue',
    versions: [
      { version: 'v1', baseUrl: 'https://catalog.example.test/v1' },
      { version: 'v2', baseUrl: '/api/catalog/v2', apps: ['catalogue'] },
    ],
  });
  await put('billing', {
    domain: 'billing',
    versions: [{ version: 'v1', baseUrl: 'https://billing.example.test/v1', apps: ['billing'] }],
  });
  const settings = await h.hub.hub.server.inject({
    method: 'PUT',
    url: '/v1/dictionary/settings/catalogue',
    headers: adminAuth,
    payload: { features: { newSearch: true } },
  });
  expect(settings.statusCode, settings.body).toBeLessThan(300);

  const token = await h.hub.token(TENANT, ['events:read']);
  // The portal page: one shell, three micro-frontend scripts that each read what they need.
  h.serve(
    '/portal.html',
    `<!doctype html><html><body>
<script type="module">
  import { createShell } from '${BUNDLE_PATH}';
  const app = new URL(location.href).searchParams.get('app') ?? undefined;
  window.portico = createShell({ hub: ${JSON.stringify(h.hubUrl)}, app, getToken: () => ${JSON.stringify(token)} });
  window.portico.catch((e) => { window.shellError = String(e); });
</script>
<script type="module" src="/mfe/catalog.js"></script>
<script type="module" src="/mfe/billing.js"></script>
<script type="module" src="/mfe/settings.js"></script>
</body></html>`,
  );
  const mfe = (name: string, read: string) =>
    h.serve(
      `/mfe/${name}.js`,
      `const shell = await window.portico;
       const result = {};
       try { result.value = ${read}; } catch (e) { result.error = e.code ?? String(e); }
       (window.mfe ??= {})[${JSON.stringify(name)}] = result;`,
    );
  mfe('catalog', `shell.api('catalog', 'v1')`);
  mfe('billing', `shell.api('billing', 'v1')`);
  mfe('settings', `shell.settings()`);
}, 30_000);

afterAll(async () => {
  await h?.close();
});

type Results = Record<string, { value?: unknown; error?: string }>;

async function mfeResults(path: string, context?: Awaited<ReturnType<ShellHarness['newContext']>>) {
  const ctx = context ?? (await h.newContext());
  const page = await h.open(ctx, path);
  await page.waitForFunction(() => {
    const w = window as unknown as { mfe?: Results; shellError?: string };
    return w.shellError || Object.keys(w.mfe ?? {}).length === 3;
  });
  const results = await page.evaluate(() => {
    const w = window as unknown as { mfe?: Results; shellError?: string };
    if (w.shellError) throw new Error(w.shellError);
    return w.mfe!;
  });
  return { results, page, context: ctx };
}

describe('the service dictionary in the browser', () => {
  it('reaches every micro-frontend of the page (horizontal split: the whole view)', async () => {
    const { results, context } = await mfeResults('/portal.html');
    expect(results.catalog).toEqual({ value: 'https://catalog.example.test/v1' });
    // Without ?app= every version is listed, the billing one too.
    expect(results.billing).toEqual({ value: 'https://billing.example.test/v1' });
    expect(results.settings).toEqual({ value: {} });
    await context.close();
  });

  it("loads only one app's entries and settings with app (vertical split)", async () => {
    const context = await h.newContext();
    const page = await h.open(context, '/portal.html?app=catalogue');
    await page.waitForFunction(
      () => Object.keys((window as unknown as { mfe?: object }).mfe ?? {}).length === 3,
    );
    const results = await page.evaluate(() => (window as unknown as { mfe: Results }).mfe);
    expect(results.catalog).toEqual({ value: 'https://catalog.example.test/v1' });
    expect(results.billing).toEqual({ error: 'unknown-api' });
    expect(results.settings).toEqual({ value: { features: { newSearch: true } } });
    // A path on the hub resolves against the hub URL.
    const v2 = await page.evaluate(async () =>
      (
        await (window as unknown as { portico: Promise<{ api(n: string, v: string): string }> })
          .portico
      ).api('catalog', 'v2'),
    );
    expect(v2).toBe(`${h.hubUrl}/api/catalog/v2`);
    await context.close();
  });

  it('an override (URL flag or staff cookie) switches one API for that browser only', async () => {
    const created = await h.hub.hub.server.inject({
      method: 'POST',
      url: '/v1/dictionary/overrides',
      headers: adminAuth,
      payload: {
        name: 'catalog canary',
        ttlSeconds: 600,
        patch: [{ api: 'catalog', version: 'v1', baseUrl: 'https://canary.example.test/v1' }],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json() as { id: string };

    // Browser 1: the URL flag.
    const flagged = await mfeResults(`/portal.html?portico-override=${id}`);
    expect(flagged.results.catalog).toEqual({ value: 'https://canary.example.test/v1' });
    expect(flagged.results.billing).toEqual({ value: 'https://billing.example.test/v1' });

    // Browser 2: the staff cookie on the portal's origin.
    const staff = await h.newContext();
    await staff.addCookies([{ name: 'portico-override', value: id, url: h.origin }]);
    const withCookie = await mfeResults('/portal.html', staff);
    expect(withCookie.results.catalog).toEqual({ value: 'https://canary.example.test/v1' });

    // Browser 3, at the same time, without either: the original URL.
    const plain = await mfeResults('/portal.html');
    expect(plain.results.catalog).toEqual({ value: 'https://catalog.example.test/v1' });

    await Promise.all([flagged.context.close(), staff.close(), plain.context.close()]);
  });

  it('revalidates with If-None-Match when the settings ask for a refresh: 304, then the change', async () => {
    const put = (path: string, payload: object) =>
      h.hub.hub.server.inject({ method: 'PUT', url: path, headers: adminAuth, payload });
    expect(
      (await put('/v1/dictionary/settings/refreshing', { refreshSeconds: 1 })).statusCode,
    ).toBe(200);
    const context = await h.newContext();
    const answers: Array<{ status: number; ifNoneMatch: string | undefined }> = [];
    context.on('response', (response) => {
      if (new URL(response.url()).pathname === '/v1/dictionary')
        answers.push({
          status: response.status(),
          ifNoneMatch: response.request().headers()['if-none-match'],
        });
    });
    const page = await h.open(context, '/portal.html?app=refreshing');
    await waitFor(() => answers.length >= 2, 'a revalidation');
    expect(answers[0]).toEqual({ status: 200, ifNoneMatch: undefined });
    expect(answers[1]).toEqual({ status: 304, ifNoneMatch: expect.stringMatching(/^"/) });

    await put('/v1/dictionary/apis/search', {
      domain: 'catalogue',
      versions: [{ version: 'v1', baseUrl: 'https://search.example.test/v1' }],
    });
    const url = await waitFor(
      () =>
        page.evaluate(async () => {
          const shell = await (
            window as unknown as { portico: Promise<{ api(n: string, v: string): string }> }
          ).portico;
          try {
            return shell.api('search', 'v1');
          } catch {
            return undefined;
          }
        }),
      'the refreshed dictionary',
    );
    expect(url).toBe('https://search.example.test/v1');
    expect(answers.some((a) => a.status === 200 && a.ifNoneMatch !== undefined)).toBe(true);
    await context.close();
  });

  it('fetches the dictionary once per page, however many micro-frontends read it', async () => {
    const context = await h.newContext();
    const fetches: string[] = [];
    context.on('request', (r) => {
      if (new URL(r.url()).pathname === '/v1/dictionary') fetches.push(r.method());
    });
    const page = await h.open(context, '/portal.html');
    await page.waitForFunction(
      () => Object.keys((window as unknown as { mfe?: object }).mfe ?? {}).length === 3,
    );
    expect(fetches).toEqual(['GET']);
    await context.close();
  });
});
