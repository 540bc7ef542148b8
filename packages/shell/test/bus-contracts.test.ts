/**
 * Bus contracts in a real browser: with `dev: true` the shell loads the catalog's contracts
 * from the hub and reports a payload that breaks its schema (naming the micro-frontend that
 * sent it and the failing pointers) and a sender the catalog does not list as a publisher;
 * without `dev`, the contracts are never fetched.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../hub/src/testing/wait-for.ts';
import type { ContractViolation } from '../src/types.ts';
import { BUNDLE_PATH, startShellHarness, type ShellHarness } from './browser-harness.ts';

const TENANT = 'acme';
let h: ShellHarness;

type ShellWindow = {
  violations: ContractViolation[];
  delivered: { type: string; from?: string }[];
  publish(from: string, type: string, data: unknown): void;
};

beforeAll(async () => {
  h = await startShellHarness();
  const auth = await h.hub.auth(TENANT, ['schemas:write']);
  const putApp = async (manifest: { name: string } & Record<string, unknown>) => {
    const res = await h.hub.hub.server.inject({
      method: 'PUT',
      url: `/v1/catalog/apps/${manifest.name}`,
      headers: auth,
      payload: manifest,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
  };
  await putApp({
    name: 'incidents',
    owner: { team: 'ops' },
    domain: 'incident',
    events: {
      publishes: [
        {
          type: 'incident.ticket.selected',
          schema: {
            type: 'object',
            required: ['id', 'severity'],
            properties: { id: { type: 'string' }, severity: { enum: ['low', 'high'] } },
          },
        },
      ],
    },
  });
  await putApp({
    name: 'billing',
    owner: { team: 'payments' },
    domain: 'billing',
    events: { consumes: [{ type: 'incident.ticket.selected', schema: { type: 'object' } }] },
  });
  const token = await h.hub.token(TENANT, ['events:read']);
  h.serve(
    '/contracts.html',
    `<!doctype html><html><body>
<script type="module">
  import { createShell } from '${BUNDLE_PATH}';
  const dev = new URL(location.href).searchParams.get('dev') === '1';
  const shell = await createShell({ hub: ${JSON.stringify(h.hubUrl)}, getToken: () => ${JSON.stringify(token)}, dev });
  window.violations = [];
  shell.bus.onViolation((v) => window.violations.push(v));
  window.delivered = [];
  shell.bus.subscribe('incident.>', (e) => window.delivered.push(e), { mfeId: 'billing' });
  window.publish = (from, type, data) => shell.bus.publish(type, data, { from });
  window.ready = true;
</script>
</body></html>`,
  );
  // Chromium, the hub and two manifest checks (the AsyncAPI parser) on a shared machine.
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function openPortal(dev: boolean): Promise<{
  page: Page;
  warnings: string[];
  contractFetches: () => number;
  /** Files of the shell bundle loaded besides its entry: the dev-only checker chunk. */
  lazyChunks: () => string[];
}> {
  const context = await h.newContext();
  const warnings: string[] = [];
  const chunks: string[] = [];
  let fetches = 0;
  context.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path === '/v1/catalog/contracts') fetches++;
    if (path.startsWith('/__shell/') && path !== BUNDLE_PATH) chunks.push(path);
  });
  const page = await h.open(context, `/contracts.html?dev=${dev ? 1 : 0}`);
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
  });
  await waitFor(
    () => page.evaluate(() => (window as unknown as { ready?: boolean }).ready),
    'the shell',
  );
  return { page, warnings, contractFetches: () => fetches, lazyChunks: () => chunks };
}

describe('bus contracts (dev mode)', () => {
  it('reports a contract-violating event naming the micro-frontend that sent it', async () => {
    const { page, warnings, lazyChunks } = await openPortal(true);
    await page.evaluate(() =>
      (window as unknown as ShellWindow).publish('incidents', 'incident.ticket.selected', {
        id: 42,
        severity: 'urgent',
      }),
    );
    const [violation] = await waitFor(
      () =>
        page.evaluate(() => {
          const v = (window as unknown as ShellWindow).violations;
          return v.length ? v : undefined;
        }),
      'the violation',
    );
    expect(violation!.type).toBe('incident.ticket.selected');
    expect(violation!.from).toBe('incidents');
    expect(violation!.errors.map((e) => e.pointer).sort()).toEqual(['/id', '/severity']);
    // The developer sees it in the console too, with the sender and the pointers.
    const warning = await waitFor(
      () => warnings.find((w) => w.includes('contract violation')),
      'the console warning',
    );
    expect(warning).toMatch(
      /incident\.ticket\.selected sent by "incidents": .*\/id: .*\/severity: /,
    );
    // Dev mode reports; it does not change delivery.
    expect(await page.evaluate(() => (window as unknown as ShellWindow).delivered.length)).toBe(1);
    // The checker (with its JSON Schema validator) came as a separate, lazily loaded chunk.
    expect(lazyChunks()).toHaveLength(1);
  });

  it('reports a sender the catalog does not list as a publisher of the type', async () => {
    const { page } = await openPortal(true);
    await page.evaluate(() =>
      (window as unknown as ShellWindow).publish('billing', 'incident.ticket.selected', {
        id: 'T-1',
        severity: 'low',
      }),
    );
    const violations = await waitFor(
      () =>
        page.evaluate(() => {
          const v = (window as unknown as ShellWindow).violations;
          return v.length ? v : undefined;
        }),
      'the violation',
    );
    expect(violations).toEqual([
      {
        type: 'incident.ticket.selected',
        from: 'billing',
        errors: [
          {
            pointer: '',
            detail:
              '"billing" is not a catalog publisher of incident.ticket.selected (publishers: incidents)',
          },
        ],
      },
    ]);
  });

  it('neither fetches the contracts, nor loads the validator, nor reports anything without dev', async () => {
    const { page, contractFetches, lazyChunks } = await openPortal(false);
    await page.evaluate(() => {
      const w = window as unknown as ShellWindow;
      w.publish('incidents', 'incident.ticket.selected', { id: 42 });
      w.publish('incidents', 'incident.ticket.selected', { id: 'T-2', severity: 'high' });
    });
    await waitFor(
      () => page.evaluate(() => (window as unknown as ShellWindow).delivered.length === 2),
      'both deliveries',
    );
    expect(await page.evaluate(() => (window as unknown as ShellWindow).violations)).toEqual([]);
    expect(contractFetches()).toBe(0);
    // Production never loads the validator.
    expect(lazyChunks()).toEqual([]);
  });
});
