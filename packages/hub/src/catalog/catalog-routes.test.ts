/**
 * The catalog over HTTP: publish round trip, the overview with producers and consumers,
 * each app's OpenAPI served back, the portal's AsyncAPI (validated by @asyncapi/parser),
 * breaking changes refused / forced / dry-run, registry subjects, tenant isolation,
 * scopes, and ugly input answered with 4xx problem+json.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Parser } from '@asyncapi/parser';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import type { Scope } from '../auth/principal.ts';
import { AsyncApiParser } from './asyncapi-document.ts';
import { readContractFile } from './contract-files.ts';
import type { AppManifest } from './manifest-schema.ts';
import { ManifestValidator } from './validate-manifest.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const tools = { validator: new ManifestValidator(), asyncapi: new AsyncApiParser() };

async function manifest(name: string): Promise<AppManifest> {
  const file = await readContractFile(fixture(name), tools);
  if (file.kind !== 'manifest') throw new Error(`${name} is not a manifest`);
  return file.manifest;
}

// Response bodies are walked freely in assertions; their shapes are asserted, not typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let t: TestHub;
let v1: AppManifest;
let v2compatible: AppManifest;
let v2breaking: AppManifest;

const WRITE: Scope[] = ['schemas:write', 'events:read'];

async function call(
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  options: { body?: unknown; raw?: string; tenant?: string; scopes?: Scope[]; type?: string } = {},
) {
  const headers: Record<string, string> = await t.auth(
    options.tenant ?? 'acme',
    options.scopes ?? WRITE,
  );
  const payload =
    options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined);
  if (payload !== undefined) headers['content-type'] = options.type ?? 'application/json';
  const res = await t.hub.server.inject({
    method,
    url,
    headers,
    ...(payload !== undefined ? { payload } : {}),
  });
  return {
    status: res.statusCode,
    type: res.headers['content-type'],
    body: res.body ? (JSON.parse(res.body) as Json) : {},
  };
}

/** A consumer of billing.invoice.created that needs `total` to be a number. */
const desk = (required = ['id', 'total']): AppManifest => ({
  name: 'incident-desk',
  owner: { team: 'support' },
  domain: 'incident',
  events: {
    publishes: [
      {
        type: 'incident.ticket.created',
        schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      },
    ],
    consumes: [
      {
        type: 'billing.invoice.created',
        schema: {
          type: 'object',
          required,
          properties: { id: { type: 'string' }, total: { type: 'number' } },
        },
      },
    ],
  },
});

beforeAll(async () => {
  t = await startTestHub();
  v1 = await manifest('app/billing.v1.json');
  v2compatible = await manifest('app/billing.v2-compatible.json');
  v2breaking = await manifest('app/billing.v2-breaking.json');
});
afterAll(() => t.close());

// Publishing parses OpenAPI and AsyncAPI documents: allow for a busy machine.
describe('publishing an app', { timeout: 60_000 }, () => {
  it('registers a new app (201) and serves it back', async () => {
    const res = await call('PUT', '/v1/catalog/apps/billing', { body: v1 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'billing', revision: 1, created: true, forced: false });
    expect(res.body.report.breaking).toBe(false);

    const app = await call('GET', '/v1/catalog/apps/billing', { scopes: ['events:read'] });
    expect(app.status).toBe(200);
    expect(app.body.manifest).toEqual(v1);

    const openapi = await call('GET', '/v1/catalog/apps/billing/openapi.json', {
      scopes: ['events:read'],
    });
    expect(openapi.status).toBe(200);
    expect(openapi.body).toEqual(v1.apis![0]!.openapi);
    const named = await call('GET', '/v1/catalog/apps/billing/openapi.json?api=invoices', {
      scopes: ['events:read'],
    });
    expect(named.body).toEqual(v1.apis![0]!.openapi);
    expect((await call('GET', '/v1/catalog/apps/billing/openapi.json?api=nope')).status).toBe(404);
  });

  it('lists apps, APIs and events with their producers and consumers', async () => {
    expect((await call('PUT', '/v1/catalog/apps/incident-desk', { body: desk() })).status).toBe(
      201,
    );
    const res = await call('GET', '/v1/catalog', { scopes: ['events:read'] });
    expect(res.status).toBe(200);
    expect(res.body.apps.map((a: { name: string }) => a.name)).toEqual([
      'billing',
      'incident-desk',
    ]);
    expect(res.body.apps[0]).toMatchObject({
      name: 'billing',
      owner: { team: 'payments' },
      domain: 'billing',
      ui: { entry: 'https://cdn.acme.example/billing/remoteEntry.js' },
      publishes: ['billing.invoice.created', 'billing.invoice.voided'],
      consumes: ['payment.payment.received'],
      revision: 1,
    });
    expect(res.body.apis).toEqual([
      expect.objectContaining({
        app: 'billing',
        name: 'invoices',
        title: 'Invoices',
        version: '1.0.0',
        operations: 4,
        openapi: '/v1/catalog/apps/billing/openapi.json?api=invoices',
      }),
    ]);
    const created = res.body.events.find(
      (e: { type: string }) => e.type === 'billing.invoice.created',
    );
    expect(created).toMatchObject({
      topic: 'billing.dev.invoice.created',
      producers: [{ app: 'billing', team: 'payments' }],
      consumers: [{ app: 'incident-desk', team: 'support' }],
    });
  });

  it("serves the tenant's events as AsyncAPI 3.0 that @asyncapi/parser accepts", async () => {
    const res = await call('GET', '/v1/catalog/asyncapi.json', { scopes: ['events:read'] });
    expect(res.status).toBe(200);
    expect(res.body.asyncapi).toBe('3.0.0');
    const { document, diagnostics } = await new Parser().parse(res.body as never);
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
    expect(document).toBeDefined();
    const channels = document!.channels().all();
    expect(channels.map((c) => c.id()).sort()).toEqual([
      'billing.invoice.created',
      'billing.invoice.voided',
      'incident.ticket.created',
      'payment.payment.received',
    ]);
    const created = document!.channels().get('billing.invoice.created')!;
    expect(created.address()).toBe('billing.dev.invoice.created');
    const payload = created.messages().get('billing')!.payload()!;
    // The payload's own `#/$defs/line` reference was relocated and resolves.
    expect(payload.properties()!.lines!.items()).toBeDefined();
    const ops = document!
      .operations()
      .all()
      .map((o) => `${o.id()}:${o.action()}`)
      .sort();
    expect(ops).toContain('billing.send.billing.invoice.created:send');
    expect(ops).toContain('incident-desk.receive.billing.invoice.created:receive');
    expect(ops).toContain('billing.receive.payment.payment.received:receive');

    const own = await call('GET', '/v1/catalog/apps/billing/asyncapi.json', {
      scopes: ['events:read'],
    });
    expect(own.status).toBe(200);
    expect(
      (await new Parser().parse(own.body as never)).diagnostics.filter((d) => d.severity === 0),
    ).toEqual([]);
  });

  it('does not store the same manifest twice', async () => {
    const again = await call('PUT', '/v1/catalog/apps/billing', { body: v1 });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ revision: 1, created: false, unchanged: true });
  });

  it('accepts a compatible revision and reports what changed', async () => {
    const res = await call('PUT', '/v1/catalog/apps/billing', { body: v2compatible });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ revision: 2, created: false, forced: false });
    const codes = res.body.report.changes.map((c: { code: string }) => c.code);
    expect(codes).toContain('operation-added');
    expect(res.body.report.breaking).toBe(false);
  });

  it('refuses breaking changes with 409 and the report, unless forced', async () => {
    const refused = await call('PUT', '/v1/catalog/apps/billing', { body: v2breaking });
    expect(refused.status).toBe(409);
    expect(refused.type).toMatch(/^application\/problem\+json/);
    expect(refused.body.type).toBe('urn:portico:problem:conflict');
    expect(refused.body.detail).toMatch(/breaking change/);
    const codes = refused.body.changes.map((c: { code: string }) => c.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        'operation-removed',
        'required-parameter-added',
        'response-media-type-removed',
        'event-no-longer-published',
        'type-changed',
      ]),
    );
    // The consumer that needs a numeric total is broken by this publish.
    const consumer = refused.body.changes.find((c: { code: string; severity: string }) =>
      c.code.startsWith('consumer-cannot-read/'),
    );
    expect(consumer).toMatchObject({ severity: 'breaking' });
    expect(consumer.location).toMatch(/incident-desk/);
    // Nothing was written.
    expect((await call('GET', '/v1/catalog/apps/billing')).body.revision).toBe(2);

    const dry = await call('POST', '/v1/catalog/apps/billing/check', {
      body: v2breaking,
      scopes: ['events:read'],
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, report: { breaking: true } });

    const forced = await call('PUT', '/v1/catalog/apps/billing?force=true', { body: v2breaking });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ revision: 3, forced: true });
    const revisions = await call('GET', '/v1/catalog/apps/billing/revisions');
    expect(
      revisions.body.revisions.map((r: { revision: number; forced: boolean }) => [
        r.revision,
        r.forced,
      ]),
    ).toEqual([
      [3, true],
      [2, false],
      [1, false],
    ]);
  });

  it('resolves schemaRef through the schema registry, and refuses unknown subjects', async () => {
    const registered = await call('POST', '/v1/registry/subjects/shipping.parcel.sent/versions', {
      body: {
        schema: JSON.stringify({ type: 'object', properties: { id: { type: 'string' } } }),
      },
    });
    expect(registered.status).toBe(200);
    const app: AppManifest = {
      name: 'shipping',
      owner: { team: 'logistics' },
      domain: 'shipping',
      events: { publishes: [{ type: 'shipping.parcel.sent', schemaRef: 'shipping.parcel.sent' }] },
    };
    expect((await call('PUT', '/v1/catalog/apps/shipping', { body: app })).status).toBe(201);
    const doc = await call('GET', '/v1/catalog/apps/shipping/asyncapi.json');
    expect(doc.body.components.schemas['shipping.shipping.parcel.sent']).toEqual({
      type: 'object',
      properties: { id: { type: 'string' } },
    });

    const unknown = await call('PUT', '/v1/catalog/apps/shipping', {
      body: {
        ...app,
        events: { publishes: [{ type: 'shipping.parcel.sent', schemaRef: 'nope/versions/2' }] },
      },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([
      {
        pointer: '/events/publishes/0/schemaRef',
        detail: expect.stringMatching(/no subject "nope" version 2/),
      },
    ]);
  });

  it("keeps /openapi.json Portico's own, describing the catalog routes", async () => {
    const res = await t.hub.server.inject({ method: 'GET', url: '/openapi.json' });
    const doc = JSON.parse(res.body) as { info: { title: string }; paths: Record<string, unknown> };
    expect(doc.info.title).toBe('Portico');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/catalog',
        '/v1/catalog/asyncapi.json',
        '/v1/catalog/apps/{name}',
        '/v1/catalog/apps/{name}/openapi.json',
      ]),
    );
  });

  it('deletes an app', async () => {
    expect((await call('DELETE', '/v1/catalog/apps/shipping')).status).toBe(204);
    expect((await call('GET', '/v1/catalog/apps/shipping')).status).toBe(404);
    expect((await call('DELETE', '/v1/catalog/apps/shipping')).status).toBe(404);
  });
});

describe('tenancy and scopes', { timeout: 60_000 }, () => {
  it("never shows one tenant's apps to another", async () => {
    const other = { tenant: 'globex', scopes: WRITE };
    expect((await call('GET', '/v1/catalog/apps/billing', other)).status).toBe(404);
    expect((await call('GET', '/v1/catalog/apps/billing/openapi.json', other)).status).toBe(404);
    expect((await call('GET', '/v1/catalog', other)).body).toEqual({
      apps: [],
      apis: [],
      events: [],
    });
    const asyncapi = await call('GET', '/v1/catalog/asyncapi.json', other);
    expect(asyncapi.body.channels).toEqual({});
    // Same name, other tenant: a new app (no diff against acme's billing).
    const res = await call('PUT', '/v1/catalog/apps/billing', { ...other, body: v2breaking });
    expect(res.status).toBe(201);
    expect(res.body.revision).toBe(1);
    expect((await call('GET', '/v1/catalog/apps/billing')).body.revision).toBe(3);
    expect((await call('DELETE', '/v1/catalog/apps/incident-desk', other)).status).toBe(404);
  });

  it('needs schemas:write to publish and events:read to read', async () => {
    expect(
      (await call('PUT', '/v1/catalog/apps/billing', { body: v1, scopes: ['events:read'] })).status,
    ).toBe(403);
    expect(
      (await call('DELETE', '/v1/catalog/apps/billing', { scopes: ['events:read'] })).status,
    ).toBe(403);
    expect((await call('GET', '/v1/catalog', { scopes: ['events:publish'] })).status).toBe(403);
    const anonymous = await t.hub.server.inject({ method: 'GET', url: '/v1/catalog' });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('ugly input is a 4xx problem', { timeout: 60_000 }, () => {
  const expectProblem = (res: { status: number; type: string | undefined }, status: number) => {
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/^application\/problem\+json/);
  };

  it('refuses bodies that are not manifests', async () => {
    expectProblem(await call('PUT', '/v1/catalog/apps/x', { raw: '{"name":' }), 400);
    expectProblem(await call('PUT', '/v1/catalog/apps/x', { raw: '[1,2]' }), 400);
    expectProblem(await call('PUT', '/v1/catalog/apps/x', { raw: 'null' }), 400);
    expectProblem(
      await call('PUT', '/v1/catalog/apps/x', { raw: 'name: x', type: 'text/yaml' }),
      415,
    );
    const empty = await call('PUT', '/v1/catalog/apps/x', { body: {} });
    expectProblem(empty, 400);
    expect(empty.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(
      expect.arrayContaining(['/name', '/owner', '/domain']),
    );
  });

  it('names the field: bad names, unknown fields, duplicates, schema and schemaRef together', async () => {
    expectProblem(await call('PUT', '/v1/catalog/apps/Not_A_Name', { body: v1 }), 400);
    const mismatch = await call('PUT', '/v1/catalog/apps/other', { body: v1 });
    expectProblem(mismatch, 400);
    expect(mismatch.body.errors).toEqual([
      { pointer: '/name', detail: 'must be "other", the app name in the URL' },
    ]);
    const unknown = await call('PUT', '/v1/catalog/apps/billing', {
      body: { ...v1, colour: 'red' },
    });
    expect(unknown.body.errors).toContainEqual({
      pointer: '/',
      detail: 'unknown property "colour"',
    });
    const twice = await call('PUT', '/v1/catalog/apps/app-x', {
      body: {
        name: 'app-x',
        owner: { team: 't' },
        domain: 'x',
        'x-notes': 'extensions are kept',
        events: {
          publishes: [
            { type: 'x.a.b', schema: { type: 'object' }, schemaRef: 'x.a.b' },
            { type: 'x.a.b' },
            { type: 'x.a.c', schema: { type: 'nope' } },
          ],
        },
      },
    });
    expectProblem(twice, 400);
    expect(twice.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(
      expect.arrayContaining([
        '/events/publishes/0',
        '/events/publishes/1/type',
        '/events/publishes/2/schema/type',
      ]),
    );
    const badType = await call('PUT', '/v1/catalog/apps/app-x', {
      body: {
        name: 'app-x',
        owner: { team: 't' },
        domain: 'x',
        events: { consumes: [{ type: 'Not.A.Type.At.All' }] },
      },
    });
    expect(badType.body.errors[0].pointer).toBe('/events/consumes/0/type');
  });

  it('refuses invalid OpenAPI documents, file paths and non-local $refs', async () => {
    const base = { name: 'api-x', owner: { team: 't' }, domain: 'x' };
    const swagger = await call('PUT', '/v1/catalog/apps/api-x', {
      body: {
        ...base,
        apis: [
          { name: 'a', openapi: { swagger: '2.0', info: { title: 't', version: '1' }, paths: {} } },
        ],
      },
    });
    expectProblem(swagger, 400);
    expect(swagger.body.errors[0].pointer).toBe('/apis/0/openapi/openapi');
    const invalid = await call('PUT', '/v1/catalog/apps/api-x', {
      body: {
        ...base,
        apis: [
          {
            name: 'a',
            openapi: {
              openapi: '3.1.0',
              info: { title: 't' },
              paths: { '/a': { get: { responses: {} } } },
            },
          },
        ],
      },
    });
    expectProblem(invalid, 400);
    expect(invalid.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(
      '/apis/0/openapi/info/version',
    );
    const path = await call('PUT', '/v1/catalog/apps/api-x', {
      body: { ...base, apis: [{ name: 'a', openapi: './openapi.yaml' }] },
    });
    expect(path.body.errors[0]).toMatchObject({
      pointer: '/apis/0/openapi',
      detail: expect.stringMatching(/portico app publish/),
    });
    const remote = await call('PUT', '/v1/catalog/apps/api-x', {
      body: {
        ...base,
        apis: [
          {
            name: 'a',
            openapi: {
              openapi: '3.1.0',
              info: { title: 't', version: '1' },
              paths: {
                '/a': {
                  get: {
                    responses: {
                      '200': {
                        description: 'x',
                        content: {
                          'application/json': {
                            schema: { $ref: 'http://169.254.169.254/latest/meta-data' },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        ],
      },
    });
    expectProblem(remote, 400);
    expect(remote.body.errors[0].detail).toMatch(/not a local reference/);
    const missing = await call('PUT', '/v1/catalog/apps/api-x', {
      body: {
        ...base,
        apis: [
          {
            name: 'a',
            openapi: {
              openapi: '3.0.3',
              info: { title: 't', version: '1' },
              paths: {
                '/a': { get: { responses: { '200': { $ref: '#/components/responses/Nope' } } } },
              },
            },
          },
        ],
      },
    });
    expectProblem(missing, 400);
  });

  it('refuses input nested too deep for the parsers, naming where', async () => {
    const depth = 2000;
    const schema =
      '{"type":"object","properties":{"a":'.repeat(depth) +
      '{"type":"string"}' +
      '}}'.repeat(depth);
    const res = await call('PUT', '/v1/catalog/apps/deep', {
      raw: `{"name":"deep","owner":{"team":"t"},"domain":"x","events":{"publishes":[{"type":"x.a.b","schema":${schema}}]}}`,
    });
    expectProblem(res, 400);
    expect(res.body.errors[0].pointer).toMatch(/^\/events\/publishes\/0\/schema\/properties\/a/);
    expect(res.body.errors[0].detail).toBe('is nested deeper than 256 levels');
  });

  it('refuses event schemas too large for the AsyncAPI parser to check', async () => {
    const res = await call('PUT', '/v1/catalog/apps/big-enum', {
      body: {
        name: 'big-enum',
        owner: { team: 't' },
        domain: 'x',
        events: {
          publishes: [
            { type: 'x.a.b', schema: { enum: Array.from({ length: 6000 }, (_, i) => i) } },
          ],
        },
      },
    });
    expectProblem(res, 400);
    expect(res.body.errors[0]).toMatchObject({
      pointer: '/events',
      detail: expect.stringMatching(/too large to check: more than 5000 JSON values/),
    });
  });

  it('refuses oversized manifests with 413', async () => {
    const big = {
      name: 'big',
      owner: { team: 't' },
      domain: 'x',
      description: 'x'.repeat(5 * 1024 * 1024),
    };
    expectProblem(await call('PUT', '/v1/catalog/apps/big', { body: big }), 413);
  });

  it('compares all the schemas of one publish within one work budget', async () => {
    // Two response schemas, each a union of 200 objects: comparing one with its next
    // revision takes most of the checker's budget. Each used to get a budget of its own,
    // so that a manifest of many such schemas (or an event with hundreds of consumers)
    // held the event loop for a second per schema.
    const union = (name: string, extra: number) => ({
      anyOf: Array.from({ length: 200 }, (_, i) => ({
        type: 'object',
        properties: { [`${name}${i}`]: { type: 'string', maxLength: i + extra } },
        required: [`${name}${i}`],
      })),
    });
    const app = (extra: number) => ({
      name: 'wide-api',
      owner: { team: 't' },
      domain: 'x',
      apis: [
        {
          name: 'a',
          openapi: {
            openapi: '3.1.0',
            info: { title: 't', version: `1.${extra}` },
            paths: Object.fromEntries(
              ['a', 'b'].map((name) => [
                `/${name}`,
                {
                  get: {
                    responses: {
                      '200': {
                        description: 'ok',
                        content: {
                          'application/json': {
                            schema: { $ref: `#/components/schemas/${name}` },
                          },
                        },
                      },
                    },
                  },
                },
              ]),
            ),
            components: { schemas: { a: union('a', extra), b: union('b', extra) } },
          },
        },
      ],
    });
    expect((await call('PUT', '/v1/catalog/apps/wide-api', { body: app(1) })).status).toBe(201);
    // Narrower responses: compatible as far as the budget goes, but what it could not
    // compare is not known to be safe (a publisher could exhaust the budget on purpose).
    const dry = await call('PUT', '/v1/catalog/apps/wide-api?dryRun=true', { body: app(0) });
    expect(dry.status).toBe(200);
    expect(dry.body.report.breaking).toBe(true);
    expect(dry.body.report.changes).toEqual([
      expect.objectContaining({ severity: 'breaking', code: 'check-too-complex' }),
    ]);
    expect((await call('PUT', '/v1/catalog/apps/wide-api', { body: app(0) })).status).toBe(409);
    expect(
      (await call('PUT', '/v1/catalog/apps/wide-api?force=true', { body: app(0) })).status,
    ).toBe(200);
  });

  it('asks which API when an app has several', async () => {
    const two = {
      ...v1,
      name: 'two-apis',
      events: {},
      apis: [v1.apis![0]!, { ...v1.apis![0]!, name: 'second' }],
    };
    expect((await call('PUT', '/v1/catalog/apps/two-apis', { body: two })).status).toBe(201);
    const res = await call('GET', '/v1/catalog/apps/two-apis/openapi.json');
    expectProblem(res, 400);
    expect(res.body.detail).toMatch(/invoices, second/);
  });
});
