/**
 * Smoke test of `npm run demo` in Debian's Chromium: the demo starts on free ports, the shell
 * mounts its three micro-frontends from their own origins, and one published event shows up
 * in every one of them over a single push connection, reaches the webhook receiver (signed)
 * and, for low severity, the triage queue.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { waitFor } from '../../../packages/hub/src/testing/wait-for.ts';
import { launchChromium } from '../../../packages/hub/src/testing/chromium.ts';
import { openPortal } from '../src/browser/portal-page.ts';
import { PORTAL_EVENTS_FILE, portalEventTypes } from '../src/hub/portal-event-types.ts';
import { DEMO_TENANT, startPortalDemo, type PortalDemo } from '../src/portal-demo.ts';

let demo: PortalDemo;
let browser: Browser;
let outDir: string;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'portal-demo-test-'));
  [demo, browser] = await Promise.all([
    startPortalDemo({ portBase: 0, outDir, logLevel: 'silent' }),
    launchChromium(),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  rmSync(outDir, { recursive: true, force: true });
});

async function pushConnections(transport?: 'sse' | 'ws'): Promise<number> {
  const metric = await demo.hub.hub.metrics.getSingleMetric('portico_push_connections')?.get();
  return (metric?.values ?? [])
    .filter((v) => !transport || v.labels.transport === transport)
    .reduce((sum, v) => sum + v.value, 0);
}

// Browser round trips on a machine shared with other builds: generous per-test limits.
describe('the demo portal', { timeout: 60_000 }, () => {
  it('shows a published incident in every micro-frontend over one push connection, for two tabs too', async () => {
    const context = await browser.newContext();
    const portal = await openPortal(await context.newPage(), demo.urls.shell);
    await portal.ready();
    const { page } = portal;

    // The dictionary and gateway reached the Web Component; the BFF reached the React panel.
    await expect(
      page.locator('incidents-list li[data-incident="INC-1001"]').textContent(),
    ).resolves.toContain('Checkout latency above SLO');
    expect(await page.getByTestId('open-incidents').textContent()).toBe('2');

    const title = `Disk full on db-${Date.now()}`;
    const id = await portal.publish({ title, severity: 'high', customer: 'initech' });

    await page
      .locator(`incidents-list li[data-incident="${id}"]`)
      .filter({ hasText: title })
      .waitFor();
    await page.getByTestId('latest-incident').filter({ hasText: id }).waitFor();
    await (
      await portal.widget()
    )
      .locator('#latest')
      .filter({ hasText: `${id} · high: ${title}` })
      .waitFor();
    // The routing rule copied it to the on-call push channel ...
    await page
      .locator(`incidents-list li[data-incident="${id}"]`)
      .filter({ hasText: 'on-call paged' })
      .waitFor();
    // ... and the webhook endpoint's rule delivered it, signed, to the receiver.
    const delivered = await waitFor(
      () => demo.receiver.received().find((r) => r.eventId && (r.data as { id: string }).id === id),
      'the webhook delivery',
    );
    expect(delivered.verified).toBe(true);
    // The incidents service consumed it from its consumer group: the BFF now counts it.
    await page.getByTestId('open-incidents').filter({ hasText: '3' }).waitFor();

    expect(await pushConnections()).toBe(1);

    // A second tab of the same browser shares the first tab's connection (cross-tab leader).
    const second = await openPortal(await context.newPage(), demo.urls.shell);
    await second.ready();
    const next = await portal.publish({ title: 'Seen by both tabs', severity: 'low' });
    await second.page.locator(`incidents-list li[data-incident="${next}"]`).waitFor();
    await second.page.getByTestId('latest-incident').filter({ hasText: next }).waitFor();
    expect(await pushConnections()).toBe(1);
    await context.close();
  });

  it('routes a low-severity incident to the triage queue, not to on-call', async () => {
    const context = await browser.newContext();
    const portal = await openPortal(await context.newPage(), demo.urls.shell);
    await portal.ready();
    const id = await portal.publish({ title: 'Typo on the invoice page', severity: 'low' });
    await portal.page.locator(`incidents-list li[data-incident="${id}"]`).waitFor();
    await portal.page
      .getByTestId('triage')
      .filter({ hasText: /^[1-9]\d* low-severity/ })
      .waitFor();
    expect(
      await portal.page.locator(`incidents-list li[data-incident="${id}"]`).textContent(),
    ).not.toContain('on-call paged');
    expect(demo.receiver.received().some((r) => (r.data as { id: string }).id === id)).toBe(false);
    await context.close();
  });

  it('reports a bus event that breaks its catalog contract (dev mode)', async () => {
    const context = await browser.newContext();
    const portal = await openPortal(await context.newPage(), demo.urls.shell);
    await portal.ready();
    await portal.page.getByRole('button', { name: 'Send a bad bus event' }).click();
    const violation = portal.page.getByTestId('violations').locator('li').first();
    await violation.waitFor();
    expect(await violation.textContent()).toContain('incident.ticket.selected from billing');
    await context.close();
  });

  it('works the same over WebSocket (?transport=ws)', async () => {
    const context = await browser.newContext();
    const portal = await openPortal(await context.newPage(), `${demo.urls.shell}/?transport=ws`);
    await portal.ready();
    await portal.page.getByTestId('connection').filter({ hasText: 'push (ws): open' }).waitFor();
    const id = await portal.publish({ title: 'Over the WebSocket', severity: 'high' });
    await portal.page.locator(`incidents-list li[data-incident="${id}"]`).waitFor();
    await portal.page.getByTestId('latest-incident').filter({ hasText: id }).waitFor();
    await (await portal.widget()).locator('#latest').filter({ hasText: id }).waitFor();
    expect(await pushConnections('ws')).toBe(1);
    await context.close();
  });

  it('switches billing to its canary for the browser that presents the override set only', async () => {
    const [tester, everyone] = await Promise.all([browser.newContext(), browser.newContext()]);
    const canary = await openPortal(await tester.newPage(), demo.urls.shellWithCanary);
    const stable = await openPortal(await everyone.newPage(), demo.urls.shell);
    await Promise.all([canary.ready(), stable.ready()]);
    await canary.page.getByTestId('billing-variant').filter({ hasText: 'canary' }).waitFor();
    await stable.page.getByTestId('billing-variant').filter({ hasText: 'stable' }).waitFor();
    expect(await stable.page.getByTestId('billing-variant').textContent()).toBe('stable');
    await Promise.all([tester.close(), everyone.close()]);
  });

  it('types its micro-frontends with what `portico types` makes of its catalog (web/portal-events.ts is current)', async () => {
    const token = await demo.hub.issuer.mint({
      tenant: DEMO_TENANT,
      scopes: ['events:read'],
      ttlSeconds: 60,
    });
    const generated = await portalEventTypes(demo.urls.hub, token);
    expect(generated).toContain('export interface IncidentTicketCreated');
    // Out of date: run `npm run types -w examples/portal` and commit the file.
    expect(readFileSync(PORTAL_EVENTS_FILE, 'utf8')).toBe(generated);
  });
});
