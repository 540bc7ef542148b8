/**
 * `npm run demo:screenshots`: starts the demo on free ports, drives it in Chromium like a
 * visitor (publish a high and a low incident, pick one, send a bad bus event) and writes
 * docs/images/portal-*.png for the README.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../../packages/hub/src/testing/chromium.ts';
import { openPortal } from './browser/portal-page.ts';
import { startPortalDemo } from './portal-demo.ts';

const images = fileURLToPath(new URL('../../../docs/images/', import.meta.url));
mkdirSync(images, { recursive: true });
const outDir = mkdtempSync(join(tmpdir(), 'portal-demo-shots-'));
const demo = await startPortalDemo({
  portBase: 0,
  outDir,
  logLevel: 'silent',
  progress: (l) => console.log(`  · ${l}`),
});
const browser = await launchChromium();
try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 600 },
    deviceScaleFactor: 1,
  });
  const portal = await openPortal(await context.newPage(), demo.urls.shell);
  await portal.ready();
  const shot = async (name: string) => {
    const path = join(images, `portal-${name}.png`);
    await portal.page.screenshot({ path });
    console.log(`  wrote ${path}`);
  };
  await shot('start');

  const high = await portal.publish({
    title: 'Payment provider timeouts',
    severity: 'high',
    customer: 'umbrella',
  });
  await portal.publish({ title: 'Typo on the invoice page', severity: 'low', customer: 'initech' });
  const row = portal.page.locator(`incidents-list li[data-incident="${high}"]`);
  await row.filter({ hasText: 'on-call paged' }).waitFor();
  await row.click();
  await portal.page.getByTestId('account').waitFor();
  await portal.page.getByTestId('webhooks').filter({ hasText: high }).waitFor();
  await portal.page
    .getByTestId('triage')
    .filter({ hasText: /^[1-9]/ })
    .waitFor();
  await portal.page.getByRole('button', { name: 'Send a bad bus event' }).click();
  await portal.page.getByTestId('violations').locator('li').first().waitFor();
  await shot('live');

  // Another browser (own cookies, own shell) testing the billing canary in production.
  const tester = await browser.newContext({ viewport: { width: 1280, height: 600 } });
  const canary = await openPortal(await tester.newPage(), demo.urls.shellWithCanary);
  await canary.ready();
  await canary.page.getByTestId('billing-variant').filter({ hasText: 'canary' }).waitFor();
  await canary.page.screenshot({ path: join(images, 'portal-canary.png') });
  console.log(`  wrote ${join(images, 'portal-canary.png')}`);

  const receiver = await context.newPage();
  await receiver.setViewportSize({ width: 1100, height: 360 });
  await receiver.goto(demo.urls.webhookReceiver);
  await receiver.screenshot({ path: join(images, 'portal-webhook-receiver.png') });
  console.log(`  wrote ${join(images, 'portal-webhook-receiver.png')}`);
} finally {
  await browser.close();
  await demo.close();
  rmSync(outDir, { recursive: true, force: true });
}
