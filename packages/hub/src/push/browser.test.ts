/**
 * A real browser (headless Chromium via playwright-core) on a page that uses its own
 * EventSource, authenticated with a stream ticket: the case the ticket exists for.
 * Needs Debian's chromium at /usr/bin/chromium (or PORTICO_CHROMIUM).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../testing/chromium.ts';
import { READ, startPushHub, type PushHub } from './push-test-kit.ts';

let h: PushHub;
let browser: Browser;

beforeAll(async () => {
  h = await startPushHub();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

/** The page an app shell would be: mint a ticket with its token, open EventSource, show events. */
const PAGE = `<!doctype html>
<html><body>
<p id="status">starting</p>
<ul id="events"></ul>
<script>
  async function start(token, query) {
    const res = await fetch('/v1/stream/tickets', { method: 'POST', headers: { authorization: 'Bearer ' + token } });
    const { ticket } = await res.json();
    const source = new EventSource('/v1/stream?ticket=' + encodeURIComponent(ticket) + '&' + query);
    source.addEventListener('ready', () => { document.getElementById('status').textContent = 'ready'; });
    source.onmessage = (event) => {
      const message = JSON.parse(event.data);
      const item = document.createElement('li');
      item.dataset.lastEventId = event.lastEventId;
      item.textContent = message.subscriptions.join(',') + ' ' + message.position + ' ' + message.event.data.title;
      document.getElementById('events').append(item);
    };
  }
</script>
</body></html>`;

describe('in Chromium', () => {
  it("receives events through the browser's own EventSource with a single-use ticket", async () => {
    const page = await browser.newPage();
    try {
      // Serve the page from the hub's origin, so the page's requests go to the real hub.
      const pageUrl = `${h.base}/__push-test-page`;
      await page.route(pageUrl, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: PAGE }),
      );
      await page.goto(pageUrl);
      await page.evaluate(
        async ([token, query]) =>
          (window as unknown as { start(t: string, q: string): Promise<void> }).start(
            token!,
            query!,
          ),
        [await h.token('browser', READ), 'topic=incident.*.ticket.created'],
      );
      await page.locator('#status', { hasText: 'ready' }).waitFor();

      const positions = await h.publish('browser', [
        { type: 'incident.ticket.created', data: { title: 'printer on fire' } },
        { type: 'billing.invoice.paid', data: { title: 'not for this page' } },
        { type: 'incident.ticket.created', data: { title: 'coffee machine down' } },
      ]);
      const items = page.locator('#events li');
      await items.nth(1).waitFor();
      expect(await items.allTextContents()).toEqual([
        `incident.*.ticket.created ${positions[0]} printer on fire`,
        `incident.*.ticket.created ${positions[2]} coffee machine down`,
      ]);
      // The browser's Last-Event-ID is the event's log position.
      expect(await items.nth(1).getAttribute('data-last-event-id')).toBe(String(positions[2]));
    } finally {
      await page.close();
    }
  });
});

describe('a routing rule with a push target', () => {
  it('reaches the browser on the channel the rule names, as the rule matched it', async () => {
    const rule = await h.hub.server.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: await h.auth('browser-rules', ['rules:write']),
      payload: {
        name: 'page-on-call',
        pattern: { type: ['incident.ticket.created'], data: { severity: ['high'] } },
        targets: [
          {
            kind: 'push',
            channel: 'oncall',
            inputTransform: {
              paths: { title: '$.data.title' },
              template: '{"title": "on call: <title>"}',
            },
          },
        ],
      },
    });
    expect(rule.statusCode, rule.body).toBe(201);

    const page = await browser.newPage();
    try {
      const pageUrl = `${h.base}/__push-test-page`;
      await page.route(pageUrl, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: PAGE }),
      );
      await page.goto(pageUrl);
      await page.evaluate(
        async ([token, query]) =>
          (window as unknown as { start(t: string, q: string): Promise<void> }).start(
            token!,
            query!,
          ),
        [await h.token('browser-rules', READ), 'channel=oncall'],
      );
      await page.locator('#status', { hasText: 'ready' }).waitFor();

      await h.publish('browser-rules', [
        { type: 'incident.ticket.created', data: { severity: 'low', title: 'paper jam' } },
        { type: 'incident.ticket.created', data: { severity: 'high', title: 'site down' } },
      ]);
      // Another tenant's event matching the same pattern never reaches this page.
      await h.publish('browser-other', [
        { type: 'incident.ticket.created', data: { severity: 'high', title: 'not yours' } },
      ]);
      const items = page.locator('#events li');
      await items.first().waitFor();
      const [text] = await items.allTextContents();
      // Only the copy the rule made: the channel's subscription id, the transformed data.
      expect(text).toMatch(/^channel:oncall \d+ on call: site down$/);
      // Give a wrongly routed event time to show up before checking nothing else came.
      await h.publish('browser-rules', [
        { type: 'incident.ticket.created', data: { severity: 'high', title: 'second' } },
      ]);
      await items.nth(1).waitFor();
      expect(await items.allTextContents()).toEqual([
        expect.stringMatching(/ on call: site down$/),
        expect.stringMatching(/ on call: second$/),
      ]);
    } finally {
      await page.close();
    }
  });
});
