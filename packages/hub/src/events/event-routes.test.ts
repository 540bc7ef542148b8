import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudEvent, HTTP } from 'cloudevents';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
let base: string;
beforeAll(async () => {
  t = await startTestHub({
    events: { maxEventBytes: 2048, maxRequestBytes: 64 * 1024, maxBatchSize: 50 },
  });
  base = await t.hub.server.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => t.close());

const structured = (event: Record<string, unknown>) =>
  JSON.stringify({ specversion: '1.0', source: '/tests', ...event });

async function publish(
  tenant: string,
  body: string,
  contentType = 'application/cloudevents+json',
  headers: Record<string, string> = {},
) {
  return t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: {
      ...(await t.auth(tenant, ['events:publish'])),
      'content-type': contentType,
      ...headers,
    },
    payload: body,
  });
}

async function read(tenant: string, query = '') {
  const res = await t.hub.server.inject({
    url: `/v1/events${query}`,
    headers: await t.auth(tenant, ['events:read']),
  });
  return res.json() as {
    events: Array<{ position: number; topic: string; event: Record<string, unknown> }>;
    next: number;
    more: boolean;
  };
}

describe('POST /v1/events — structured mode', () => {
  it('accepts an event, stamps the portal metadata and files it under its topic', async () => {
    const res = await publish(
      'acme',
      structured({ id: 's-1', type: 'incident.ticket.created', data: { severity: 'high' } }),
      'application/cloudevents+json; charset=utf-8',
      {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    );
    expect(res.statusCode).toBe(202);
    const [accepted] = res.json().events;
    expect(accepted).toMatchObject({
      id: 's-1',
      topic: 'incident.dev.ticket.created',
      duplicate: false,
    });
    expect(accepted.position).toBeGreaterThan(0);
    expect(accepted.partition).toBeGreaterThanOrEqual(0);

    const got = await t.hub.server.inject({
      url: '/v1/events/s-1',
      headers: await t.auth('acme', ['events:read']),
    });
    expect(got.statusCode).toBe(200);
    const event = got.json().event;
    expect(event).toMatchObject({
      id: 's-1',
      tenantid: 'acme',
      correlationid: 's-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      data: { severity: 'high' },
    });
    expect(Date.parse(event.recordedtime)).not.toBeNaN();
    expect(Date.parse(event.time)).not.toBeNaN();
  });

  it('makes a new traceparent when the request has none, and keeps a given correlationid', async () => {
    await publish(
      'acme',
      structured({ id: 's-2', type: 'incident.ticket.created', correlationid: 'flow-9' }),
    );
    const got = await t.hub.server.inject({
      url: '/v1/events/s-2',
      headers: await t.auth('acme', ['events:read']),
    });
    expect(got.json().event.correlationid).toBe('flow-9');
    expect(got.json().event.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe('POST /v1/events — binary mode', () => {
  it('reads ce-* headers and a JSON body', async () => {
    const res = await publish('acme', JSON.stringify({ amount: 12 }), 'application/json', {
      'ce-specversion': '1.0',
      'ce-id': 'b-1',
      'ce-source': '/billing',
      'ce-type': 'billing.invoice.paid',
      'ce-subject': 'inv%2042',
    });
    expect(res.statusCode).toBe(202);
    const got = await t.hub.server.inject({
      url: '/v1/events/b-1',
      headers: await t.auth('acme', ['events:read']),
    });
    expect(got.json().event).toMatchObject({
      type: 'billing.invoice.paid',
      subject: 'inv 42',
      data: { amount: 12 },
      datacontenttype: 'application/json',
    });
  });

  it('keeps a non-JSON body as data_base64', async () => {
    const res = await publish('acme', 'PNG\u0000bytes', 'application/octet-stream', {
      'ce-specversion': '1.0',
      'ce-id': 'b-2',
      'ce-source': '/files',
      'ce-type': 'files.image.uploaded',
    });
    expect(res.statusCode).toBe(202);
    const got = await t.hub.server.inject({
      url: '/v1/events/b-2',
      headers: await t.auth('acme', ['events:read']),
    });
    expect(Buffer.from(got.json().event.data_base64, 'base64').toString()).toBe('PNG\u0000bytes');
  });

  it('refuses data in ce-data or ce-data_base64 headers: in the binary mode the data is the body', async () => {
    for (const header of ['ce-data', 'ce-data_base64']) {
      const res = await publish('acme', '', 'application/json', {
        'ce-specversion': '1.0',
        'ce-id': `b-h-${header}`,
        'ce-source': '/x',
        'ce-type': 'a.b.c',
        [header]: 'eyJzbXVnZ2xlZCI6dHJ1ZX0=',
      });
      expect(res.statusCode, header).toBe(400);
      expect(res.json().detail).toBe(
        `header ${header} is not a CloudEvents attribute: in the binary mode the data is the body`,
      );
    }
  });

  it('refuses JSON labelled with a charset other than UTF-8, and reads text in the charset it names', async () => {
    const ce = {
      'ce-specversion': '1.0',
      'ce-source': '/notes',
      'ce-type': 'notes.note.added',
    };
    for (const [body, contentType] of [
      ['{"a":"caf\u00e9"}', 'application/json; charset=latin1'],
      [structured({ id: 'cs-1' }), 'application/cloudevents+json; charset=ISO-8859-1'],
    ] as const) {
      const res = await publish('acme', body, contentType, { ...ce, 'ce-id': 'cs-json' });
      expect(res.statusCode, contentType).toBe(415);
      expect(res.json().detail).toMatch(/is JSON, which is exchanged as UTF-8 \(RFC 8259\)/);
    }
    const latin1 = await t.hub.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        ...(await t.auth('acme', ['events:publish'])),
        'content-type': 'text/plain; charset=latin1',
        ...ce,
        'ce-id': 'cs-text',
      },
      payload: Buffer.from('caf\u00e9', 'latin1'),
    });
    expect(latin1.statusCode, latin1.body).toBe(202);
    const got = await t.hub.server.inject({
      url: '/v1/events/cs-text',
      headers: await t.auth('acme', ['events:read']),
    });
    expect(got.json().event.data).toBe('caf\u00e9');
    const unknown = await publish('acme', 'x', 'text/plain; charset=klingon', {
      ...ce,
      'ce-id': 'cs-k',
    });
    expect(unknown.statusCode).toBe(415);
  });

  it('rejects a body declared JSON that is not JSON', async () => {
    const res = await publish('acme', '{not json', 'application/json', {
      'ce-specversion': '1.0',
      'ce-id': 'b-3',
      'ce-source': '/x',
      'ce-type': 'a.b.c',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].pointer).toBe('/data');
  });
});

describe('POST /v1/events — batch mode', () => {
  it('stores every event of a batch, in order', async () => {
    const batch = [1, 2, 3].map((n) => ({
      specversion: '1.0',
      id: `batch-${n}`,
      source: '/batch',
      type: 'orders.order.placed',
      data: { n },
    }));
    const res = await publish(
      'batchco',
      JSON.stringify(batch),
      'application/cloudevents-batch+json',
    );
    expect(res.statusCode).toBe(202);
    const positions = res.json().events.map((e: { position: number }) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect((await read('batchco')).events.map((e) => e.event.id)).toEqual([
      'batch-1',
      'batch-2',
      'batch-3',
    ]);
  });

  it('is all-or-nothing: one bad event rejects the batch with its index and field', async () => {
    const batch = [
      { specversion: '1.0', id: 'atomic-1', source: '/batch', type: 'orders.order.placed' },
      { specversion: '1.0', id: 'atomic-2', source: '/batch', type: 'orders.order.placed' },
      { specversion: '1.0', id: 'atomic-3', source: '/batch', type: 'Orders.Placed' },
    ];
    const res = await publish(
      'atomicco',
      JSON.stringify(batch),
      'application/cloudevents-batch+json',
    );
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      status: 400,
      index: 2,
      type: 'urn:portico:problem:invalid-event',
    });
    expect(res.json().errors[0].pointer).toBe('/2/type');
    expect((await read('atomicco')).events).toHaveLength(0);
  });

  it('rejects an empty batch, a non-array and a batch over the size limit', async () => {
    expect((await publish('acme', '[]', 'application/cloudevents-batch+json')).statusCode).toBe(
      400,
    );
    expect((await publish('acme', '{}', 'application/cloudevents-batch+json')).statusCode).toBe(
      400,
    );
    const many = Array.from({ length: 51 }, (_, i) => ({
      specversion: '1.0',
      id: `m${i}`,
      source: '/m',
      type: 'a.b.c',
    }));
    expect(
      (await publish('acme', JSON.stringify(many), 'application/cloudevents-batch+json'))
        .statusCode,
    ).toBe(413);
  });
});

describe('with the cloudevents SDK as the sender', () => {
  it('accepts its structured and binary messages and a batch of its events', async () => {
    const authorization = (await t.auth('sdkco', ['events:publish'])).authorization;
    const events = [0, 1, 2].map(
      (n) =>
        new CloudEvent({ id: `sdk-${n}`, source: '/sdk', type: 'sdk.thing.happened', data: { n } }),
    );
    for (const [i, message] of [HTTP.structured(events[0]!), HTTP.binary(events[1]!)].entries()) {
      const res = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { ...(message.headers as Record<string, string>), authorization },
        body: message.body as string,
      });
      expect(res.status, `message ${i}`).toBe(202);
    }
    const batch = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json', authorization },
      body: JSON.stringify([events[2]]),
    });
    expect(batch.status).toBe(202);
    const stored = (await read('sdkco')).events.map((e) => e.event);
    expect(stored.map((e) => e.id)).toEqual(['sdk-0', 'sdk-1', 'sdk-2']);
    expect(stored.map((e) => e.data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
  });
});

describe('dedupe', () => {
  it('acknowledges the same source+id as a duplicate and stores it once', async () => {
    const first = await publish('dupco', structured({ id: 'd-1', type: 'a.b.c' }));
    const again = await publish('dupco', structured({ id: 'd-1', type: 'a.b.c', data: 'changed' }));
    expect(again.statusCode).toBe(202);
    expect(again.json().events[0]).toMatchObject({
      duplicate: true,
      position: first.json().events[0].position,
    });
    const otherSource = await publish(
      'dupco',
      structured({ id: 'd-1', type: 'a.b.c', source: '/elsewhere' }),
    );
    expect(otherSource.json().events[0].duplicate).toBe(false);
    const otherTenant = await publish('dupco-2', structured({ id: 'd-1', type: 'a.b.c' }));
    expect(otherTenant.json().events[0].duplicate).toBe(false);
    expect((await read('dupco')).events).toHaveLength(2);
  });
});

describe('tenant isolation', () => {
  it("tenant B cannot read, fetch or write tenant A's events", async () => {
    await publish('tenant-a', structured({ id: 'secret-1', type: 'hr.salary.changed' }));
    expect((await read('tenant-b')).events.find((e) => e.event.id === 'secret-1')).toBeUndefined();
    const byId = await t.hub.server.inject({
      url: '/v1/events/secret-1',
      headers: await t.auth('tenant-b', ['events:read']),
    });
    expect(byId.statusCode).toBe(404);
    const asOther = await t.hub.server.inject({
      url: '/v1/events?tenant=tenant-a',
      headers: await t.auth('tenant-b', ['events:read']),
    });
    expect(asOther.statusCode).toBe(403);
    const forge = await publish(
      'tenant-b',
      structured({ id: 'forged', type: 'hr.salary.changed', tenantid: 'tenant-a' }),
    );
    expect(forge.statusCode).toBe(403);
    expect((await read('tenant-a')).events.map((e) => e.event.id)).toEqual(['secret-1']);
  });
});

describe('reading', () => {
  it('pages with after/limit and filters by topic pattern', async () => {
    for (const [i, type] of [
      'shop.cart.created',
      'shop.cart.emptied',
      'shop.order.placed',
      'crm.lead.created',
    ].entries())
      await publish('pager', structured({ id: `p-${i}`, type }));
    const carts = await read('pager', '?topic=shop.*.cart.>');
    expect(carts.events.map((e) => e.event.type)).toEqual([
      'shop.cart.created',
      'shop.cart.emptied',
    ]);
    const page1 = await read('pager', '?limit=2');
    expect(page1.events).toHaveLength(2);
    const page2 = await read('pager', `?limit=2&after=${page1.next}`);
    expect(page2.events.map((e) => e.event.id)).toEqual(['p-2', 'p-3']);
    expect((await read('pager', '?topic=*.dev.*.created')).events.map((e) => e.event.id)).toEqual([
      'p-0',
      'p-3',
    ]);
  });

  it('answers a pattern that matches little after a bounded share of events, with `more` and a `next` past them', async () => {
    // 10,000 events of another type (the most one read examines on the embedded log), then
    // the one match: the first page stops early; paging on from `next` finds it.
    const batch = (from: number, n: number, type = 'noise.thing.happened') =>
      JSON.stringify(
        Array.from({ length: n }, (_, i) => ({
          specversion: '1.0',
          source: '/scan',
          id: `scan-${from + i}`,
          type,
        })),
      );
    for (let i = 0; i < 10_000; i += 50)
      expect(
        (await publish('scanner', batch(i, 50), 'application/cloudevents-batch+json')).statusCode,
      ).toBe(202);
    await publish('scanner', structured({ id: 'needle', type: 'shop.order.placed' }));

    const pages: Awaited<ReturnType<typeof read>>[] = [];
    let after = 0;
    for (;;) {
      const page = await read('scanner', `?topic=*.dev.order.placed&after=${after}`);
      pages.push(page);
      if (!page.more) break;
      expect(page.next).toBeGreaterThan(after);
      after = page.next;
    }
    expect(pages[0]).toMatchObject({ events: [], more: true });
    expect(pages.flatMap((p) => p.events.map((e) => e.event.id))).toEqual(['needle']);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    // The last page reached the log's end: nothing more until something is published.
    const last = pages[pages.length - 1]!;
    expect(await read('scanner', `?topic=*.dev.order.placed&after=${last.next}`)).toMatchObject({
      events: [],
      next: last.next,
      more: false,
    });
  });

  it('fetches an event by an id of the longest length ingest accepts, percent-encoded', async () => {
    // 256 characters, the limit, with characters a URL must encode (each three once encoded).
    const id = `long/id ${'é'.repeat(100)}${'x'.repeat(148)}`;
    expect(id).toHaveLength(256);
    expect(
      (await publish('long-ids', structured({ id, type: 'shop.cart.created' }))).statusCode,
    ).toBe(202);
    const res = await t.hub.server.inject({
      url: `/v1/events/${encodeURIComponent(id)}`,
      headers: await t.auth('long-ids', ['events:read']),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().event.id).toBe(id);
  });
});

describe('errors are problem+json', () => {
  const cases: Array<
    [
      string,
      () => Promise<{
        statusCode: number;
        json(): Record<string, unknown>;
        headers: Record<string, unknown>;
      }>,
      number,
      RegExp,
    ]
  > = [
    [
      'no token',
      () =>
        t.hub.server.inject({
          method: 'POST',
          url: '/v1/events',
          payload: '{}',
          headers: { 'content-type': 'application/cloudevents+json' },
        }),
      401,
      /bearer token is required/,
    ],
    [
      'a garbage token',
      () =>
        t.hub.server.inject({ url: '/v1/events', headers: { authorization: 'Bearer not.a.jwt' } }),
      401,
      /./,
    ],
    [
      'a token without the scope',
      async () =>
        t.hub.server.inject({
          url: '/v1/events',
          headers: await t.auth('acme', ['events:publish']),
        }),
      403,
      /events:read/,
    ],
    [
      'an unsupported content type',
      () => publish('acme', 'hello', 'text/plain'),
      415,
      /CloudEvents mode/,
    ],
    [
      'a body over the request limit',
      () => publish('acme', JSON.stringify({ pad: 'x'.repeat(70 * 1024) })),
      413,
      /limit/,
    ],
    [
      'an event over the event limit',
      () => publish('acme', structured({ id: 'big', type: 'a.b.c', data: 'x'.repeat(3000) })),
      413,
      /limit is 2048/,
    ],
    ['a missing id', () => publish('acme', structured({ type: 'a.b.c' })), 400, /id is required/],
    [
      'a wrong specversion',
      () => publish('acme', structured({ id: 'v', type: 'a.b.c', specversion: '0.3' })),
      400,
      /specversion/,
    ],
    [
      'a two-segment type',
      () => publish('acme', structured({ id: 'v', type: 'incident.created' })),
      400,
      /three/,
    ],
    [
      'a bad time',
      () => publish('acme', structured({ id: 'v', type: 'a.b.c', time: 'yesterday' })),
      400,
      /RFC 3339/,
    ],
    [
      'an object extension',
      () => publish('acme', structured({ id: 'v', type: 'a.b.c', myext: { a: 1 } })),
      400,
      /string, an integer or a boolean/,
    ],
    [
      'an upper-case attribute',
      () => publish('acme', structured({ id: 'v', type: 'a.b.c', MyExt: 'x' })),
      400,
      /lowercase/,
    ],
    [
      // PostgreSQL text cannot hold U+0000: in cluster mode it stopped the router.
      'U+0000 in an attribute',
      () => publish('acme', structured({ id: 'a\u0000b', type: 'a.b.c' })),
      400,
      /^id must not contain control characters/,
    ],
    [
      'a control character in an extension',
      () => publish('acme', structured({ id: 'v', type: 'a.b.c', myext: 'line\nbreak' })),
      400,
      /^myext must not contain control characters/,
    ],
    [
      'an unpaired surrogate',
      () => publish('acme', structured({ id: 'v', type: 'a.b.c', subject: 'x\ud800' })),
      400,
      /^subject must not contain control characters \(.*\) or unpaired surrogates$/,
    ],
    [
      'a partitionkey over 256 characters',
      () => publish('acme', structured({ id: 'v', type: 'a.b.c', partitionkey: 'k'.repeat(257) })),
      400,
      /^partitionkey must be at most 256 characters$/,
    ],
    [
      'a type over 256 characters',
      () => publish('acme', structured({ id: 'v', type: `a.${'b'.repeat(253)}.c` })),
      400,
      /^type must be at most 256 characters$/,
    ],
    [
      'a tenantid that no token could carry',
      () => publish('acme', structured({ id: 'v', type: 'a.b.c', tenantid: 'a b' })),
      400,
      /^tenantid must be a tenant id/,
    ],
    ['invalid JSON', () => publish('acme', '{"id":'), 400, /not valid JSON/],
    ['a JSON array in structured mode', () => publish('acme', '[1]'), 400, /one JSON object/],
    ['an unknown route', () => t.hub.server.inject({ url: '/v1/nope' }), 404, /no route/],
    [
      'a bad limit',
      async () =>
        t.hub.server.inject({
          url: '/v1/events?limit=0',
          headers: await t.auth('acme', ['events:read']),
        }),
      400,
      /limit/,
    ],
    [
      // Ajv coerced "Infinity" to a number that passes integer, minimum and maximum.
      'an infinite limit',
      async () =>
        t.hub.server.inject({
          url: '/v1/events?limit=Infinity',
          headers: await t.auth('acme', ['events:read']),
        }),
      400,
      /^query is invalid: \/limit must be an integer in decimal digits$/,
    ],
    [
      'an after past the exact integers',
      async () =>
        t.hub.server.inject({
          url: '/v1/events?after=100000000000000000000000',
          headers: await t.auth('acme', ['events:read']),
        }),
      400,
      /^query is invalid: \/after must be <= 9007199254740991$/,
    ],
    [
      'data nested deeper than JSON.stringify can go',
      () =>
        publish(
          'acme',
          `{"specversion":"1.0","source":"/tests","id":"deep","type":"a.b.c","data":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        ),
      400,
      /^the structured-mode body: \/data(\/0)+ is nested deeper than 256 levels$/,
    ],
    [
      // JSON.parse makes Infinity of it, which the log would have stored as null.
      'a number in data too large for a double',
      () =>
        publish(
          'acme',
          '{"specversion":"1.0","source":"/tests","id":"huge","type":"a.b.c","data":{"n":[1,1e999]}}',
        ),
      400,
      /^the structured-mode body: \/data\/n\/1 must be a finite number$/,
    ],
    [
      'a bad topic pattern',
      async () =>
        t.hub.server.inject({
          url: '/v1/events?topic=a.>.b',
          headers: await t.auth('acme', ['events:read']),
        }),
      400,
      /last segment/,
    ],
    [
      'an unknown event id',
      async () =>
        t.hub.server.inject({
          url: '/v1/events/nope',
          headers: await t.auth('acme', ['events:read']),
        }),
      404,
      /no event/,
    ],
  ];
  it.each(cases)('%s → %i', async (_name, request, status, detail) => {
    const res = await request();
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({
      status,
      type: expect.stringMatching(/^urn:portico:problem:/),
      title: expect.any(String),
    });
    expect(body.detail).toMatch(detail);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
  });
});

describe('operations', () => {
  it('serves health, readiness, metrics and its own OpenAPI document', async () => {
    expect((await t.hub.server.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.hub.server.inject({ url: '/readyz' })).statusCode).toBe(200);
    const metrics = (await t.hub.server.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/portico_events_ingested_total\{mode="structured"\} \d+/);
    expect(metrics).toMatch(/portico_events_rejected_total\{reason="invalid-event"\} \d+/);
    expect(metrics).toMatch(/portico_event_append_seconds_bucket/);
    const openapi = (await t.hub.server.inject({ url: '/openapi.json' })).json();
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/events', '/v1/events/{id}', '/v1/consumer-groups/{name}/pull']),
    );
  });

  it('runs on Node 24', () => {
    expect(process.versions.node.startsWith('24.')).toBe(true);
  });
});
