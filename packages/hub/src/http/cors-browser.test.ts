/**
 * CORS as Chromium enforces it: a shell page on another origin reads the dictionary (its
 * exposed headers included), mints a stream ticket and opens the hub's SSE stream with its
 * own EventSource; a page on an origin outside http.cors.origins, or asking for a header
 * outside the list, is refused by the browser. The pages come from small servers on
 * loopback ports of their own (other origins, the hub's address space: Chromium's Local
 * Network Access refuses a page from a public address calling loopback before any CORS).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../testing/chromium.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

let shell: { server: Server; origin: string };
let stranger: { server: Server; origin: string };
let t: TestHub;
let hubUrl: string;
let browser: Browser;

/** A server for a blank page: its origin is what the test is about. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>shell</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  shell = await pageServer();
  stranger = await pageServer();
  t = await startTestHub({ http: { cors: { origins: [shell.origin] } } });
  hubUrl = await t.hub.server.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  for (const page of [shell, stranger]) page?.server.close();
});

/** A page on `origin`, and what its console said (Chromium explains refusals there). */
async function pageOn(origin: string): Promise<Page & { said: string[] }> {
  const page = Object.assign(await browser.newPage(), { said: [] as string[] });
  page.on('console', (message) => page.said.push(message.text()));
  await page.goto(`${origin}/`);
  return page;
}

/** Runs `fetch` in the page; a CORS refusal comes back as the browser's TypeError text. */
const fetchIn = (page: Page, url: string, headers: Record<string, string>) =>
  page.evaluate(
    async ({ url, headers }) => {
      try {
        const res = await fetch(url, { headers });
        return {
          status: res.status,
          etag: res.headers.get('etag'),
          override: res.headers.get('x-portico-override-status'),
        };
      } catch (error) {
        return { error: String(error) };
      }
    },
    { url, headers },
  );

describe('CORS in Chromium', () => {
  it('lets the shell origin read the dictionary and its exposed headers', async () => {
    const page = await pageOn(shell.origin);
    try {
      const token = await t.token('acme', ['events:read']);
      const result = await fetchIn(page, `${hubUrl}/v1/dictionary`, {
        authorization: `Bearer ${token}`,
        'x-portico-override': 'ovr_unknown',
      });
      expect(result).toMatchObject({ status: 200, override: 'unknown' });
      expect((result as { etag: string }).etag).toMatch(/^"/);
    } finally {
      await page.close();
    }
  });

  it('opens the SSE stream cross-origin with a ticket, through the page’s own EventSource', async () => {
    const page = await pageOn(shell.origin);
    try {
      const token = await t.token('acme', ['events:read']);
      const ready = await page.evaluate(
        async ({ hubUrl, token }) => {
          const res = await fetch(`${hubUrl}/v1/stream/tickets`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: '{}',
          });
          const { ticket } = (await res.json()) as { ticket: string };
          return new Promise<string>((resolve, reject) => {
            const source = new EventSource(
              `${hubUrl}/v1/stream?topic=incident.>&ticket=${encodeURIComponent(ticket)}`,
            );
            source.addEventListener('ready', (event) => {
              source.close();
              resolve((event as MessageEvent<string>).data);
            });
            source.onerror = () => {
              source.close();
              reject(new Error('EventSource failed'));
            };
          });
        },
        { hubUrl, token },
      );
      expect(JSON.parse(ready)).toMatchObject({ subscriptions: ['incident.>'] });
    } finally {
      await page.close();
    }
  });

  it('refuses another origin, and a header outside the list', async () => {
    const token = await t.token('acme', ['events:read']);
    const other = await pageOn(stranger.origin);
    try {
      const refused = await fetchIn(other, `${hubUrl}/v1/dictionary`, {
        authorization: `Bearer ${token}`,
      });
      expect(refused).toEqual({ error: expect.stringMatching(/TypeError/) });
      expect(other.said.join('\n')).toMatch(/blocked by CORS policy.*preflight/);
    } finally {
      await other.close();
    }
    const own = await pageOn(shell.origin);
    try {
      const refused = await fetchIn(own, `${hubUrl}/v1/dictionary`, {
        authorization: `Bearer ${token}`,
        'x-evil': '1',
      });
      expect(refused).toEqual({ error: expect.stringMatching(/TypeError/) });
      expect(own.said.join('\n')).toMatch(/blocked by CORS policy.*preflight/);
    } finally {
      await own.close();
    }
  });
});
