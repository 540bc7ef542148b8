/**
 * Validation at publish and the per-domain publish-time policy, through `POST /v1/events`
 * on a hub configured with policies for two domains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
let headers: { authorization: string };
let sequence = 0;

beforeAll(async () => {
  t = await startTestHub({
    registry: {
      domains: {
        hr: { forbidPii: true, maxRetentionSeconds: 3600 },
        audit: { requireSchema: true },
      },
    },
  });
  headers = await t.auth('acme', ['schemas:write', 'events:read', 'events:publish']);
});
afterAll(() => t.close());

async function registry(method: 'POST' | 'PUT', url: string, body: unknown) {
  const response = await t.hub.server.inject({
    method,
    url: `/v1/registry${url}`,
    headers,
    payload: body as object,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Record<string, unknown>;
}

const register = (subject: string, schema: unknown) =>
  registry('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(schema) });

const event = (type: string, data: unknown, extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: `e${++sequence}`,
  source: '/test',
  type,
  data,
  ...extra,
});

async function publish(body: unknown, batch = false, as = headers) {
  const response = await t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: {
      ...as,
      'content-type': batch ? 'application/cloudevents-batch+json' : 'application/cloudevents+json',
    },
    payload: JSON.stringify(body),
  });
  return {
    status: response.statusCode,
    type: response.headers['content-type'],
    body: response.json() as Record<string, unknown> & { errors?: { pointer: string }[] },
  };
}

async function stored(id: string) {
  const response = await t.hub.server.inject({ method: 'GET', url: `/v1/events/${id}`, headers });
  expect(response.statusCode).toBe(200);
  return (response.json() as { event: Record<string, unknown> }).event;
}

async function metric(name: string): Promise<string[]> {
  const text = (await t.hub.server.inject({ method: 'GET', url: '/metrics' })).body;
  return text.split('\n').filter((line) => line.startsWith(name));
}

const ticket = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 1 },
    severity: { enum: ['low', 'high'] },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['title', 'severity'],
};

describe('validation at publish: reject (the default)', () => {
  beforeAll(() => register('ops.ticket.opened', ticket));

  it('accepts a valid event and stamps the schema version it was checked against', async () => {
    const e = event('ops.ticket.opened', { title: 'disk full', severity: 'high' });
    expect((await publish(e)).status).toBe(202);
    expect((await stored(e.id)).dataschema).toBe(
      '/v1/registry/subjects/ops.ticket.opened/versions/1',
    );
  });

  it('refuses an invalid event with 422 listing every failing field, and stores nothing', async () => {
    const e = event('ops.ticket.opened', { title: '', severity: 'medium', tags: ['a', 7] });
    const response = await publish(e);
    expect(response.status).toBe(422);
    expect(response.type).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      type: 'urn:portico:problem:event-rejected',
      check: 'schema',
    });
    expect(response.body.errors!.map((e) => e.pointer).sort()).toEqual([
      '/data/severity',
      '/data/tags/1',
      '/data/title',
    ]);
    expect(response.body['detail']).toMatch(/schema "ops.ticket.opened" version 1/);
    const missing = await publish(event('ops.ticket.opened', { severity: 'low' }));
    expect(missing.body.errors).toEqual([{ pointer: '/data/title', detail: 'is required' }]);
    const read = await t.hub.server.inject({ method: 'GET', url: `/v1/events/${e.id}`, headers });
    expect(read.statusCode).toBe(404);
  });

  it('in a batch, pointers start with the event index and the whole batch is refused', async () => {
    const good = event('ops.ticket.opened', { title: 'ok', severity: 'low' });
    const bad = event('ops.ticket.opened', { title: 'ok' });
    const response = await publish([good, bad], true);
    expect(response).toMatchObject({ status: 422, body: { index: 1 } });
    expect(response.body.errors).toEqual([{ pointer: '/1/data/severity', detail: 'is required' }]);
    const read = await t.hub.server.inject({
      method: 'GET',
      url: `/v1/events/${good.id}`,
      headers,
    });
    expect(read.statusCode).toBe(404);
  });

  it('types without a schema pass untouched; a registration is in force for the next event', async () => {
    const free = event('ops.note.added', { anything: true });
    expect((await publish(free)).status).toBe(202);
    expect((await stored(free.id)).dataschema).toBeUndefined();
    await register('ops.note.added', { type: 'object', required: ['text'] });
    expect((await publish(event('ops.note.added', { anything: true }))).status).toBe(422);
  });

  it('a catastrophically backtracking pattern is matched in linear time at publish', async () => {
    // ^(a+)+$ on 'aaa…!' took the native engine minutes (an event loop stall for every
    // tenant); the key pattern too, for patternProperties.
    await register('ops.code.scanned', {
      type: 'object',
      properties: { code: { type: 'string', pattern: '^(a+)+$' } },
      patternProperties: { '^(b+)+$': { type: 'integer' } },
    });
    const attack = 'a'.repeat(28) + '!';
    const refused = await publish(event('ops.code.scanned', { code: attack }));
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      { pointer: '/data/code', detail: 'must match pattern "^(a+)+$"' },
    ]);
    const key = 'b'.repeat(28) + '!';
    expect((await publish(event('ops.code.scanned', { [key]: 'not checked' }))).status).toBe(202);
    expect((await publish(event('ops.code.scanned', { bbb: 'text' }))).status).toBe(422);
  });

  it('dataschema pins a version; naming an unregistered one is refused', async () => {
    // Version 2 makes `severity` optional (backward compatible).
    await register('ops.ticket.opened', { ...ticket, required: ['title'] });
    const loose = event('ops.ticket.opened', { title: 'no severity' });
    expect((await publish(loose)).status).toBe(202);
    const pinned = event(
      'ops.ticket.opened',
      { title: 'no severity' },
      { dataschema: '/v1/registry/subjects/ops.ticket.opened/versions/1' },
    );
    expect((await publish(pinned)).body.errors).toEqual([
      { pointer: '/data/severity', detail: 'is required' },
    ]);
    const unknown = await publish(
      event(
        'ops.ticket.opened',
        { title: 'x' },
        {
          dataschema: 'https://hub.example/v1/registry/subjects/ops.ticket.opened/versions/9',
        },
      ),
    );
    expect(unknown).toMatchObject({ status: 422, body: { errors: [{ pointer: '/dataschema' }] } });
    // Another registry's URL is the producer's business: the type's schema applies.
    const elsewhere = 'https://confluent.example/subjects/ops.ticket.opened/versions/9';
    const foreign = event('ops.ticket.opened', { title: 'x' }, { dataschema: elsewhere });
    expect((await publish(foreign)).status).toBe(202);
    expect((await stored(foreign.id)).dataschema).toBe(elsewhere);
    // Another tenant's subjects do not apply to this tenant's events, and vice versa.
    const globex = await t.auth('globex', ['events:publish']);
    expect((await publish(event('ops.ticket.opened', { title: 7 }), false, globex)).status).toBe(
      202,
    );
  });
});

describe('validation at publish: warn', () => {
  it('accepts the event, flags it on the event and in the metrics', async () => {
    await register('ops.alert.raised', ticket);
    await registry('PUT', '/config/ops.alert.raised', { validation: 'warn' });
    const e = event('ops.alert.raised', { title: 'cpu', severity: 'urgent' });
    expect((await publish(e)).status).toBe(202);
    const flagged = await stored(e.id);
    expect(flagged.validationwarnings).toMatch(
      /^schema: data does not match schema "ops.alert.raised" version 1 \(id \d+\): \/data\/severity must be equal to one of the allowed values/,
    );
    const ok = event('ops.alert.raised', { title: 'cpu', severity: 'low' });
    expect((await publish(ok)).status).toBe(202);
    expect((await stored(ok.id)).validationwarnings).toBeUndefined();
    expect(await metric('portico_publish_check_warnings_total{check="schema"}')).toEqual([
      'portico_publish_check_warnings_total{check="schema"} 1',
    ]);
    expect(await metric('portico_schema_validations_total{result="warned"}')).toEqual([
      'portico_schema_validations_total{result="warned"} 1',
    ]);
  });
});

describe('publish-time policy', () => {
  const person = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      ssn: { type: 'string', 'x-pii': true },
      contacts: {
        type: 'array',
        items: { type: 'object', properties: { email: { type: 'string', 'x-pii': true } } },
      },
    },
    required: ['name'],
  };
  beforeAll(async () => {
    await register('hr.person.hired', person);
    await register('crm.person.created', person);
  });

  it('refuses values of x-pii fields in a forbidPii domain, pointing at each', async () => {
    const response = await publish(
      event('hr.person.hired', { name: 'Ada', ssn: '123', contacts: [{}, { email: 'a@x' }] }),
    );
    expect(response).toMatchObject({
      status: 422,
      body: { check: 'policy', type: 'urn:portico:problem:event-rejected' },
    });
    expect(response.body.errors!.map((e) => e.pointer).sort()).toEqual([
      '/data/contacts/1/email',
      '/data/ssn',
    ]);
    // The values never appear in the problem.
    expect(JSON.stringify(response.body)).not.toMatch(/a@x|"123"/);
  });

  it('accepts the same schema without PII values, and with them in another domain', async () => {
    expect((await publish(event('hr.person.hired', { name: 'Ada', contacts: [{}] }))).status).toBe(
      202,
    );
    expect((await publish(event('crm.person.created', { name: 'Ada', ssn: '123' }))).status).toBe(
      202,
    );
  });

  it('stamps expirytime from the domain retention limit, and refuses a longer one', async () => {
    const plain = event('hr.person.hired', { name: 'Ada' });
    expect((await publish(plain)).status).toBe(202);
    const kept = await stored(plain.id);
    const life = Date.parse(kept.expirytime as string) - Date.parse(kept.recordedtime as string);
    expect(life).toBe(3600 * 1000);

    const soon = new Date(Date.now() + 60_000).toISOString();
    expect(
      (await publish(event('hr.person.hired', { name: 'Ada' }, { expirytime: soon }))).status,
    ).toBe(202);
    const late = new Date(Date.now() + 7 * 24 * 3600_000).toISOString();
    const refused = await publish(event('hr.person.hired', { name: 'Ada' }, { expirytime: late }));
    expect(refused).toMatchObject({
      status: 422,
      body: { check: 'policy', errors: [{ pointer: '/expirytime' }] },
    });
    expect(refused.body['detail']).toMatch(/allows at most 3600 s/);
    const garbled = await publish(
      event('hr.person.hired', { name: 'Ada' }, { expirytime: 'soon' }),
    );
    expect(garbled).toMatchObject({ status: 422, body: { errors: [{ pointer: '/expirytime' }] } });
  });

  it('requireSchema refuses types of the domain without a registered schema', async () => {
    const refused = await publish(event('audit.login.failed', { user: 'u' }));
    expect(refused).toMatchObject({
      status: 422,
      body: { check: 'policy', errors: [{ pointer: '/type' }] },
    });
    await register('audit.login.failed', { type: 'object' });
    expect((await publish(event('audit.login.failed', { user: 'u' }))).status).toBe(202);
  });

  it('counts every decision in governed domains', async () => {
    const lines = await metric('portico_publish_policy_decisions_total');
    expect(lines).toContain(
      'portico_publish_policy_decisions_total{domain="hr",outcome="deny",rule="pii"} 1',
    );
    expect(lines).toContain(
      'portico_publish_policy_decisions_total{domain="audit",outcome="deny",rule="schema-required"} 1',
    );
    expect(lines.some((l) => l.includes('domain="crm"'))).toBe(false);
  });
});
