/**
 * kill -9 of the hub while webhook deliveries are in flight: after a restart every
 * acknowledged event reaches the endpoint (at least once), every copy verifies, and the
 * copies of one event carry the same webhook-id, so the receiver can deduplicate.
 */
import { waitFor } from '../src/testing/wait-for.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevIssuer } from '../src/auth/dev-issuer.ts';
import { WebhookReceiver } from '../src/webhooks/testing/webhook-receiver.ts';
import { exited, spawnHub } from './hub-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'portico-webhooks-durability-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const port = 20000 + Math.floor(Math.random() * 20000);
const EVENTS = 300;

describe('webhook delivery across kill -9', () => {
  it('delivers every event after a restart, duplicates with the same webhook-id', async () => {
    const receiver = await WebhookReceiver.start();
    // The first 40 are answered; later ones are held until the hub has been killed, so
    // some deliveries are certainly in flight (sent, not yet acknowledged) at the kill.
    let release!: () => void;
    const killed = new Promise<void>((resolve) => (release = resolve));
    receiver.script('/hook', (n) => (n <= 40 ? { status: 200 } : { status: 200, hold: killed }));
    const configFile = join(dataDir, 'portico.config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        webhooks: {
          allowHttp: true,
          allowCidrs: ['127.0.0.0/8'],
          requestTimeoutSeconds: 2,
          retryScheduleSeconds: [0.2, 0.5, 1, 1, 1, 1, 1, 1],
        },
      }),
    );
    const start = () => spawnHub({ port, dataDir, args: ['--config', configFile] });
    let hub = await start();
    try {
      const token = await (
        await loadOrCreateDevIssuer(dataDir, { audience: 'urn:portico' })
      ).mint({ tenant: 'durable', scopes: ['events:publish', 'webhooks:write'] });
      const authorization = `Bearer ${token}`;
      const created = await fetch(`${hub.url}/v1/webhooks/endpoints`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url('/hook'), eventTypes: ['durable.>'] }),
      });
      expect(created.status).toBe(201);
      const { secret } = (await created.json()) as { secret: string };

      const ids = Array.from({ length: EVENTS }, (_, i) => `evt-${i}`);
      for (let i = 0; i < EVENTS; i += 100) {
        const batch = ids.slice(i, i + 100).map((id) => ({
          specversion: '1.0',
          id,
          source: '/durability',
          type: 'durable.thing.happened',
          data: { id },
        }));
        const res = await fetch(`${hub.url}/v1/events`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/cloudevents-batch+json' },
          body: JSON.stringify(batch),
        });
        expect(res.status).toBe(202);
      }
      // Pull the plug while deliveries are in flight.
      await waitFor(() => receiver.requests.length > 40, 'deliveries in flight');
      hub.child.kill('SIGKILL');
      await exited(hub.child);
      release();
      const inFlight = receiver.requests
        .slice(40)
        .map((r) => (JSON.parse(r.body) as { id: string }).id);
      expect(receiver.requests.length).toBeLessThan(EVENTS);

      hub = await start();
      const seen = () =>
        new Set(receiver.requests.map((r) => (JSON.parse(r.body) as { id: string }).id));
      const copies = (id: string) =>
        receiver.requests.filter((r) => (JSON.parse(r.body) as { id: string }).id === id).length;
      await waitFor(() => seen().size === EVENTS, 'every event delivered', 45_000);
      // What was in flight comes back once its lease (attempt timeout + margin) runs out.
      await waitFor(
        () => inFlight.every((id) => copies(id) >= 2),
        'the in-flight deliveries again',
        45_000,
      );

      const webhookIds = new Map<string, Set<string>>();
      const verifier = new Webhook(secret);
      for (const r of receiver.requests) {
        // Every copy verifies (the stale-timestamp check included: these are fresh).
        const event = verifier.verify(r.body, r.headers as Record<string, string>) as {
          id: string;
        };
        const set = webhookIds.get(event.id) ?? new Set();
        set.add(String(r.headers['webhook-id']));
        webhookIds.set(event.id, set);
      }
      // What was in flight at the kill was delivered again, under the same webhook-id.
      expect(inFlight.length).toBeGreaterThan(0);
      expect(receiver.requests.length).toBeGreaterThan(EVENTS);
      for (const id of ids) expect(webhookIds.get(id)?.size, id).toBe(1);
      expect(new Set([...webhookIds.values()].map((s) => [...s][0])).size).toBe(EVENTS);
    } finally {
      hub.child.kill('SIGTERM');
      await exited(hub.child);
      await receiver.close();
    }
  }, 90_000);
});
