/**
 * Input that SQLite takes and the cluster engines do not, refused at the edge (a 400 on
 * both engines), on a hub on NATS JetStream and PostgreSQL:
 *
 * - U+0000 in an event attribute: PostgreSQL text cannot hold it. The event was stored in
 *   JetStream (202), then the router's delivery insert failed on it forever: no later
 *   event of any tenant was routed.
 * - a partitionkey of a few kB with an ordered target: over PostgreSQL's limit for an index
 *   entry, the same stuck router.
 * - an event type of a few kB: a NATS subject over the server's control-line limit; NATS
 *   closed the hub's connection, failing every publish in flight.
 * - U+0000 in a path or query parameter, integers past PostgreSQL `integer`, a DLQ page
 *   cursor holding a dead_at that is no bigint, a registry
 *   reference name over the index limit, a consumer group whose JetStream consumer name
 *   (the encoded tenant id and name) is over 255 characters: 500s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterEngines } from '../../test/cluster/engines.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { injectJson } from '../testing/inject-json.ts';
import { waitFor } from '../testing/wait-for.ts';

const engines = clusterEngines('hostile');
let t: TestHub;
let auth: { authorization: string };

beforeAll(async () => {
  t = await startTestHub(engines.hubConfig());
  auth = await t.auth('acme', ['admin']);
  expect(
    (await api('PUT', '/v1/consumer-groups/checker', { topic: 'portico.*.queue.q' })).status,
  ).toBe(200);
  for (const [name, ordered] of [
    ['to-q', false],
    ['to-q-ordered', true],
  ] as const)
    expect(
      (
        await api('POST', '/v1/rules', {
          name,
          pattern: { type: ['hostile.thing.happened'] },
          targets: [{ kind: 'queue', queue: 'q', ordered }],
        })
      ).status,
    ).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

const api = (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) =>
  injectJson(t.hub.server, method, url, auth, body);

let n = 0;
async function publish(attributes: Record<string, unknown>) {
  const res = await t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth, 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({
      specversion: '1.0',
      id: `e-${n++}`,
      source: '/hostile',
      type: 'hostile.thing.happened',
      ...attributes,
    }),
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
}

/** A normal event still reaches the queue through the router. */
async function expectRoutingWorks(marker: string) {
  expect((await publish({ data: { marker } })).status).toBe(202);
  await waitFor(async () => {
    const pulled = await api('POST', '/v1/consumer-groups/checker/pull', {
      consumer: 'c',
      max: 100,
      waitSeconds: 0.5,
    });
    const messages = pulled.body['messages'] as { token: string }[];
    if (messages.length > 0)
      await api('POST', '/v1/consumer-groups/checker/ack', {
        tokens: messages.map((m) => m.token),
      });
    return JSON.stringify(messages).includes(marker);
  }, `the routed copy of ${marker}`);
}

describe('hostile input on NATS + PostgreSQL', () => {
  it('refuses U+0000 in event attributes, and the router keeps routing', async () => {
    for (const attributes of [
      { id: 'a\u0000b' },
      { source: '/a\u0000' },
      { subject: 's\u0000' },
      { partitionkey: 'p\u0000' },
      { myext: 'x\u0000' },
    ]) {
      const res = await publish(attributes);
      expect(res.status, JSON.stringify(attributes)).toBe(400);
      expect(res.body['detail']).toMatch(/must not contain control characters/);
    }
    // U+0000 inside data is stored as JSON (escaped) and routed.
    expect((await publish({ data: { 'k\u0000': 'v\u0000' } })).status).toBe(202);
    await expectRoutingWorks('after-nul');
  });

  it('refuses a partitionkey too long for an index entry, and the router keeps routing', async () => {
    const key = Array.from({ length: 400 }, (_, i) => (i * 7919).toString(36)).join('');
    const res = await publish({ partitionkey: key });
    expect(res.status).toBe(400);
    expect(res.body['detail']).toBe('partitionkey must be at most 256 characters');
    await expectRoutingWorks('after-long-key');
  });

  it('refuses an event type too long for a NATS subject, and NATS stays connected', async () => {
    const res = await publish({ type: `hostile.${'a'.repeat(5000)}.happened` });
    expect(res.status).toBe(400);
    expect(res.body['detail']).toBe('type must be at most 256 characters');
    await expectRoutingWorks('after-long-type');
  });

  it('answers U+0000 in path and query parameters with 400, not 500', async () => {
    for (const url of ['/v1/rules/a%00b', '/v1/events/a%00b', '/v1/dlq?after=a%00']) {
      const res = await api('GET', url);
      expect(res.status, url).toBe(400);
      expect(res.body['detail']).toMatch(/must not contain the NUL character/);
    }
  });

  it('answers numbers past PostgreSQL integer and over-long index keys with 4xx, not 500', async () => {
    expect((await api('GET', '/v1/registry/schemas/ids/2147483648')).status).toBe(400);
    expect((await api('GET', '/v1/dlq?ruleId=r&targetIndex=2147483648')).status).toBe(400);
    // A forged page cursor: dead_at 1.5 is no bigint.
    const cursor = Buffer.from('[1.5,"x"]').toString('base64url');
    expect((await api('GET', `/v1/dlq?after=${cursor}`)).status).toBe(400);
    expect(
      (await api('POST', '/v1/registry/subjects/hostile.ref.a/versions', { schema: '{}' })).status,
    ).toBe(200);
    const name = Array.from({ length: 1024 }, (_, i) => String.fromCodePoint(0x4e00 + i * 7)).join(
      '',
    );
    const res = await api('POST', '/v1/registry/subjects/hostile.ref.b/versions', {
      schema: '{"type":"object"}',
      references: [{ name, subject: 'hostile.ref.a', version: 1 }],
    });
    expect(res.status).toBe(400);
    expect(res.body['detail']).toMatch(/references\/0\/name/);
  });

  it('fits a consumer group name to the 255 characters JetStream allows, tenant id encoded', async () => {
    const tenant = {
      authorization: (await t.auth(`t${':'.repeat(65)}x`, ['admin'])).authorization,
    };
    const put = (name: string) =>
      t.hub.server.inject({
        method: 'PUT',
        url: `/v1/consumer-groups/${name}`,
        headers: tenant,
        payload: {},
      });
    const tooLong = await put('g'.repeat(56));
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({
      detail: 'path is invalid: /name must be at most 55 characters for this tenant',
    });
    expect((await put('g'.repeat(55))).statusCode).toBe(200);
  });
});
