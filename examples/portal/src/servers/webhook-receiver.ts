import { Webhook } from 'standardwebhooks';
import { listen, readBody, sendJson, type Listening } from './listen.ts';

export type ReceivedWebhook = {
  webhookId: string;
  eventId: string;
  type: string;
  data: unknown;
  verified: boolean;
  receivedAt: string;
};

export type WebhookReceiver = Listening & {
  /** Where the hub POSTs (the endpoint's URL). */
  hookUrl: string;
  /** The endpoint's `whsec_` secret, known once the endpoint is created. */
  useSecret(secret: string): void;
  received(): readonly ReceivedWebhook[];
};

const KEEP = 50;

/**
 * A tenant's system receiving Portico's signed webhooks: it checks the Standard Webhooks
 * signature with the `standardwebhooks` library (as any receiver would) and shows what it
 * got at `/` (a page) and `/deliveries` (JSON, readable by the shell page through CORS).
 */
export async function startWebhookReceiver(port: number): Promise<WebhookReceiver> {
  let verifier: Webhook | undefined;
  const received: ReceivedWebhook[] = [];
  const server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/hooks/portico') {
      const body = await readBody(req);
      let verified = false;
      try {
        verifier?.verify(body, req.headers as Record<string, string>);
        verified = verifier !== undefined;
      } catch {
        verified = false;
      }
      // A receiver must refuse what it cannot verify; the hub then retries (and shows it).
      if (!verified) {
        sendJson(res, 401, { error: 'bad signature' });
        return;
      }
      const event = JSON.parse(body.toString('utf8')) as {
        id: string;
        type: string;
        data: unknown;
      };
      const webhookId = String(req.headers['webhook-id']);
      if (!received.some((r) => r.webhookId === webhookId)) {
        received.unshift({
          webhookId,
          eventId: event.id,
          type: event.type,
          data: event.data,
          verified,
          receivedAt: new Date().toISOString(),
        });
        received.length = Math.min(received.length, KEEP);
      }
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/deliveries') {
      sendJson(res, 200, { deliveries: received }, { 'access-control-allow-origin': '*' });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderPage(received));
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  }, port);
  return {
    ...server,
    hookUrl: `${server.url}/hooks/portico`,
    useSecret(secret) {
      verifier = new Webhook(secret);
    },
    received: () => received,
  };
}

function renderPage(received: readonly ReceivedWebhook[]): string {
  const escape = (s: string) =>
    s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const rows = received
    .map(
      (r) =>
        `<tr><td>${escape(r.receivedAt)}</td><td>${escape(r.type)}</td><td>${escape(r.eventId)}</td>` +
        `<td><code>${escape(JSON.stringify(r.data))}</code></td><td>${r.verified ? 'signature ok' : 'unverified'}</td></tr>`,
    )
    .join('');
  return `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Webhook receiver</title>
<style>body{font:14px system-ui;margin:2rem}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}</style>
<h1>Webhook receiver</h1>
<p>Signed Standard Webhooks POSTed by the Portico hub for high-severity incidents (refreshes every 2 s).</p>
<table><tr><th>received</th><th>type</th><th>event id</th><th>data</th><th>check</th></tr>${rows || '<tr><td colspan="5">nothing yet</td></tr>'}</table>`;
}
