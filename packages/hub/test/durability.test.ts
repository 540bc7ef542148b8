import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevIssuer } from '../src/auth/dev-issuer.ts';
import { exited, spawnHub } from './hub-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'portico-durability-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const port = 20000 + Math.floor(Math.random() * 20000);

describe('durability of acknowledged events', () => {
  it('keeps every acknowledged event, in order per partition key, across kill -9', async () => {
    let hub = await spawnHub({ port, dataDir });
    const token = await (
      await loadOrCreateDevIssuer(dataDir, { audience: 'urn:portico' })
    ).mint({ tenant: 'durable', scopes: ['events:publish', 'events:read'] });
    const headers = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/cloudevents+json',
    };

    const acknowledged = new Map<string, string[]>(); // partition key -> ids in ack order
    const inFlight = new Set<string>();
    let killed = false;
    // Eight producers, one partition key each, each sending one event at a time.
    const producers = Array.from({ length: 8 }, async (_, p) => {
      const key = `key-${p}`;
      acknowledged.set(key, []);
      for (let n = 0; !killed; n++) {
        const id = `${key}-${n}`;
        inFlight.add(id);
        const body = JSON.stringify({
          specversion: '1.0',
          id,
          source: '/durability',
          type: 'test.event.sent',
          partitionkey: key,
          data: { n },
        });
        const ok = await fetch(`${hub.url}/v1/events`, { method: 'POST', headers, body }).then(
          (r) => r.status === 202,
          () => false,
        );
        if (!ok) return;
        inFlight.delete(id);
        acknowledged.get(key)!.push(id);
      }
    });
    // Let some hundreds of acknowledgements happen, then pull the plug mid-stream.
    while ([...acknowledged.values()].reduce((s, ids) => s + ids.length, 0) < 400)
      await new Promise((r) => setTimeout(r, 20));
    hub.child.kill('SIGKILL');
    killed = true;
    await exited(hub.child);
    await Promise.all(producers);

    hub = await spawnHub({ port, dataDir });
    expect(hub.output()).toMatch(/DEVELOPMENT AUTH MODE/);
    expect(hub.output()).toMatch(/portico token --tenant/);
    try {
      const stored: Array<{ id: string; key: string; position: number }> = [];
      for (let after = 0; ;) {
        const page = (await (
          await fetch(`${hub.url}/v1/events?after=${after}&limit=1000`, { headers })
        ).json()) as {
          events: Array<{ position: number; event: { id: string; partitionkey: string } }>;
          next: number;
          more: boolean;
        };
        for (const e of page.events)
          stored.push({ id: e.event.id, key: e.event.partitionkey, position: e.position });
        if (!page.more) break;
        after = page.next;
      }
      const storedIds = new Set(stored.map((s) => s.id));
      expect(storedIds.size, 'no event is stored twice').toBe(stored.length);
      for (const [key, ids] of acknowledged) {
        for (const id of ids) expect(storedIds.has(id), `acknowledged ${id} survives`).toBe(true);
        // Per key, the log holds the acknowledged events in the order they were acknowledged.
        const inLog = stored.filter((s) => s.key === key).map((s) => s.id);
        expect(inLog.slice(0, ids.length)).toEqual(ids);
      }
      // Anything beyond the acknowledged events was in flight when the hub died.
      const acked = new Set([...acknowledged.values()].flat());
      for (const s of stored)
        if (!acked.has(s.id)) expect(inFlight.has(s.id), `${s.id} was in flight`).toBe(true);
    } finally {
      hub.child.kill('SIGTERM');
      expect(await exited(hub.child)).toBe(0);
    }
  }, 60_000);
});
