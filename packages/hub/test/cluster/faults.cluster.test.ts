import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './cluster-node.ts';
import {
  createTestDatabase,
  NATS,
  POSTGRES,
  PrivateNats,
  testStream,
  type TestDatabase,
  type TestStream,
} from './engines.ts';
import { call, metricSum, publish, readAll } from './http.ts';
import { startLoad, waitForAcks, type Load } from './load.ts';
import { TcpProxy } from './tcp-proxy.ts';

// Faults against a cluster of hub processes. Each test has its own database and stream;
// the NATS that is restarted is a private nats-server, and PostgreSQL is cut through a
// proxy of the test's own: the shared servers are never stopped.
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function engines(label: string, natsUrl = NATS): Promise<[TestDatabase, TestStream]> {
  const database = await createTestDatabase(label);
  cleanups.push(() => database.drop());
  const stream = testStream(natsUrl, label);
  cleanups.push(() => stream.delete());
  return [database, stream];
}

function cluster(settings: ConstructorParameters<typeof TestCluster>[0]): TestCluster {
  const c = new TestCluster(settings);
  cleanups.push(() => c.close());
  return c;
}

/** Every acknowledged event is stored once, in acknowledgement order per key; nothing else but in-flight ones. */
async function expectNothingAcknowledgedLost(
  load: Load,
  base: string,
  headers: Record<string, string>,
) {
  const stored = await readAll(base, headers);
  const ids = stored.map((s) => s.event.id);
  expect(new Set(ids).size, 'no event is stored twice').toBe(ids.length);
  expect(load.total()).toBeGreaterThan(0);
  const storedIds = new Set(ids);
  for (const [key, acked] of load.acknowledged) {
    const missing = acked.filter((id) => !storedIds.has(id));
    expect(missing, `acknowledged events of ${key} missing`).toEqual([]);
    const inLog = stored
      .filter((s) => (s.event as { partitionkey?: string }).partitionkey === key)
      .map((s) => s.event.id);
    expect(inLog.slice(0, acked.length), `order of ${key}`).toEqual(acked);
  }
  const acked = new Set([...load.acknowledged.values()].flat());
  const extra = ids.filter((id) => id.startsWith(`${load.prefix}-`) && !acked.has(id));
  for (const id of extra) expect(load.inFlight.has(id), `${id} was in flight`).toBe(true);
  return stored.length;
}

describe('cluster faults', () => {
  it('kill -9 of a node mid-load loses no acknowledged event; the survivor takes over its chores', async () => {
    const [database, stream] = await engines('kill');
    const c = cluster({
      natsUrl: NATS,
      stream: stream.stream,
      subjectPrefix: stream.subjectPrefix,
      postgresUrl: database.url,
    });
    const [n1, n2] = [await c.startNode('n1'), await c.startNode('n2')];
    const headers = await c.headers('durable', ['events:publish', 'events:read']);
    const retentionLeader = (url: string) =>
      metricSum(url, 'portico_leader', 'chore="events-retention"');
    // Make n1 the leader: it started first; wait until the election has settled.
    await expect.poll(() => retentionLeader(n1.url), { timeout: 10_000 }).toBe(1);
    expect(await retentionLeader(n2.url)).toBe(0);

    // Half the producers on each node; n1's stop at their first failed request.
    const victimLoad = startLoad({
      targets: [() => n1.url],
      headers,
      keys: 4,
      prefix: 'victim',
      onFailure: 'stop',
    });
    const survivorLoad = startLoad({
      targets: [() => n2.url],
      headers,
      keys: 4,
      onFailure: 'stop',
    });
    await waitForAcks(victimLoad, 300);
    await n1.kill();
    // The survivor keeps accepting while n1 is gone.
    await waitForAcks(survivorLoad, 200);
    await Promise.all([victimLoad.stop(), survivorLoad.stop()]);
    expect(survivorLoad.failures).toEqual([]);

    for (const load of [victimLoad, survivorLoad])
      await expectNothingAcknowledgedLost(load, n2.url, headers);
    // PostgreSQL saw n1's session end and released its lease: n2 leads now.
    await expect.poll(() => retentionLeader(n2.url), { timeout: 15_000 }).toBe(1);
    expect(n2.child.exitCode).toBe(null);
  });

  it('NATS restarted mid-load: the nodes reconnect by themselves and nothing acknowledged is lost', async () => {
    const nats = new PrivateNats();
    cleanups.push(() => nats.dispose());
    await nats.start();
    const [database, stream] = await engines('natsrestart', nats.url);
    const c = cluster({
      natsUrl: nats.url,
      stream: stream.stream,
      subjectPrefix: stream.subjectPrefix,
      postgresUrl: database.url,
    });
    const n1 = await c.startNode('n1');
    const n2 = await c.startNode('n2');
    const headers = await c.headers('restart', ['events:publish', 'events:read']);

    // Producers retry an unacknowledged event until it is acknowledged (at-least-once).
    const load = startLoad({
      targets: [() => n1.url, () => n2.url],
      headers,
      keys: 6,
      onFailure: 'retry',
    });
    await waitForAcks(load, 200);
    await nats.kill();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const ready = await fetch(`${n1.url}/readyz`);
    expect(ready.status).toBe(503);
    await nats.start();
    await waitForAcks(load, 200, 45_000);
    await load.stop();

    // While NATS was down the hubs answered 503 problems (or were slow), never 5xx else.
    expect(load.failures.filter((status) => status !== 503)).toEqual([]);
    expect([...load.problemTypes]).toEqual(
      load.failures.length > 0 ? ['urn:portico:problem:unavailable'] : [],
    );
    const stored = await expectNothingAcknowledgedLost(load, n1.url, headers);
    expect(stored).toBeGreaterThanOrEqual(400);
    for (const n of [n1, n2]) {
      expect(n.child.exitCode).toBe(null);
      expect((await fetch(`${n.url}/readyz`)).status).toBe(200);
    }
  }, 120_000);

  it('PostgreSQL briefly unreachable: 503 problems, no crash, and the node recovers by itself', async () => {
    const [database, stream] = await engines('pgcut');
    const target = new URL(POSTGRES);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    const c = cluster({
      natsUrl: NATS,
      stream: stream.stream,
      subjectPrefix: stream.subjectPrefix,
      postgresUrl: viaProxy.toString(),
    });
    const n1 = await c.startNode('n1');
    const headers = await c.headers('pg', ['events:publish', 'events:read', 'rules:write']);
    expect((await publish(n1.url, headers, 'before', 'pg.event.sent')).status).toBe(202);

    proxy.cut();
    const during = await publish(n1.url, headers, 'during', 'pg.event.sent');
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ type: 'urn:portico:problem:unavailable', status: 503 });
    const rules = await call(`${n1.url}/v1/rules`, 'GET', headers);
    expect(rules.status).toBe(503);
    expect(rules.type).toMatch(/application\/problem\+json/);
    const ready = await call(`${n1.url}/readyz`, 'GET', {});
    expect(ready.status).toBe(503);
    expect(String(ready.body.detail)).toMatch(/state store/);
    // A second, and some seconds of the outage: still answering, still alive.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await publish(n1.url, headers, 'during-2', 'pg.event.sent')).status).toBe(503);
    expect(n1.child.exitCode).toBe(null);

    proxy.restore();
    await expect
      .poll(async () => (await publish(n1.url, headers, 'after', 'pg.event.sent')).status, {
        timeout: 15_000,
        interval: 250,
      })
      .toBe(202);
    expect((await call(`${n1.url}/readyz`, 'GET', {})).status).toBe(200);
    expect((await call(`${n1.url}/v1/rules`, 'GET', headers)).status).toBe(200);
    // The refused publishes stored nothing; the retried one is there once.
    const ids = (await readAll(n1.url, headers)).map((e) => e.event.id);
    expect(ids).toEqual(['before', 'after']);
    expect(n1.output()).not.toMatch(/uncaught|unhandled/i);
  }, 60_000);
});
