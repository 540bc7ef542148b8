/**
 * The registry API through a client nobody here wrote: @kafkajs/confluent-schema-registry
 * (its JSON Schema support), against a hub listening on a real socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

type Middleware = NonNullable<
  ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']
>[number];

let t: TestHub;
let base: string;
let token: string;

/** The client speaks basic auth only; Portico wants a bearer token. */
const bearer =
  (value: string): Middleware =>
  () => ({
    async prepareRequest(next) {
      const request = await next();
      return request.enhance({ headers: { authorization: `Bearer ${value}` } });
    },
  });

function client(tokenValue = token) {
  return new SchemaRegistry(
    { host: base, middlewares: [bearer(tokenValue)], retry: { retries: 0 } },
    // The client validates payloads itself; its default ajv knows draft-07 only.
    {
      // Another copy of ajv than the client's own: only the shape matters to it.
      [SchemaType.JSON]: {
        ajvInstance: new Ajv2020({ strict: false }) as never,
      },
    },
  );
}

async function call(method: string, path: string, body?: unknown, tokenValue = token) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${tokenValue}`,
      'content-type': 'application/vnd.schemaregistry.v1+json',
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

const person = (extra: Record<string, unknown> = {}, required = ['name']) =>
  JSON.stringify({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 }, ...extra },
    required,
  });

beforeAll(async () => {
  t = await startTestHub();
  const address = await t.hub.server.listen({ port: 0, host: '127.0.0.1' });
  base = `${address}/v1/registry`;
  token = await t.token('acme', ['schemas:write', 'events:read']);
});
afterAll(() => t.close());

describe('registry API with @kafkajs/confluent-schema-registry', () => {
  const subject = 'hr.person.hired';
  let v1: number;
  let v2: number;

  it('registers a JSON schema, sets the subject compatibility, and reads it back by id', async () => {
    const registry = client();
    ({ id: v1 } = await registry.register(
      { type: SchemaType.JSON, schema: person() },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    ));
    expect(v1).toBeGreaterThan(0);
    // The client's own cache is per instance: a fresh one goes to the hub.
    const fetched = client();
    const encoded = await fetched.encode(v1, { name: 'Ada', age: 36 });
    expect(encoded.readUInt32BE(1)).toBe(v1);
    expect(await fetched.decode(encoded)).toEqual({ name: 'Ada', age: 36 });
    // The client validates with the schema it fetched from Portico.
    await expect(fetched.encode(v1, { name: 7 })).rejects.toThrow(/invalid payload/i);
    expect(await call('GET', `/config/${subject}`)).toMatchObject({
      status: 200,
      body: { compatibilityLevel: 'BACKWARD' },
    });
  });

  it('registers a compatible second version; latest, versions and lookup by schema agree', async () => {
    const registry = client();
    ({ id: v2 } = await registry.register(
      { type: SchemaType.JSON, schema: person({ email: { type: 'string' } }) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    ));
    expect(v2).not.toBe(v1);
    expect(await registry.getLatestSchemaId(subject)).toBe(v2);
    expect(await registry.getRegistryId(subject, 1)).toBe(v1);
    expect(await registry.getRegistryId(subject, 2)).toBe(v2);
    expect(
      await registry.getRegistryIdBySchema(subject, { type: SchemaType.JSON, schema: person() }),
    ).toBe(v1);
    expect((await call('GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);
    expect((await call('GET', '/subjects')).body).toEqual([subject]);
    // The same schema again is the same id and no new version.
    const again = await registry.register(
      { type: SchemaType.JSON, schema: person() },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    expect(again.id).toBe(v1);
    expect((await call('GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);
  });

  it('refuses an incompatible version with 409 and the list of incompatibilities', async () => {
    const breaking = person({ email: { type: 'string' } }, ['name', 'email']);
    await expect(
      client().register(
        { type: SchemaType.JSON, schema: breaking },
        { subject, compatibility: COMPATIBILITY.BACKWARD },
      ),
    ).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/incompatible/) });
    const raw = await call('POST', `/subjects/${subject}/versions`, { schema: breaking });
    expect(raw.status).toBe(409);
    expect(raw.type).toMatch(/^application\/problem\+json/);
    expect(raw.body).toMatchObject({
      type: 'urn:portico:problem:conflict',
      error_code: 409,
      compatibility: 'BACKWARD',
      incompatibilities: [
        {
          pointer: '/required',
          change: expect.any(String),
          detail: expect.stringContaining('email'),
        },
      ],
    });
    expect((await call('GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);
  });

  it('answers the compatibility endpoint without registering', async () => {
    const breaking = person({}, ['name', 'age']);
    const latest = await call('POST', `/compatibility/subjects/${subject}/versions/latest`, {
      schema: breaking,
    });
    expect(latest).toMatchObject({
      status: 200,
      body: { is_compatible: false, compatibility: 'BACKWARD' },
    });
    expect((latest.body['messages'] as string[])[0]).toMatch(/age/);
    const fine = await call('POST', `/compatibility/subjects/${subject}/versions/1`, {
      schema: person({ nickname: { type: 'string' } }),
    });
    expect(fine.body).toMatchObject({ is_compatible: true, messages: [] });
  });

  it('sets and reads the global and per-subject config', async () => {
    expect((await call('GET', '/config')).body).toMatchObject({
      compatibilityLevel: 'BACKWARD',
      validation: 'reject',
    });
    expect(await call('PUT', '/config', { compatibility: 'FULL_TRANSITIVE' })).toMatchObject({
      status: 200,
      body: { compatibility: 'FULL_TRANSITIVE' },
    });
    expect((await call('GET', '/config')).body).toMatchObject({
      compatibilityLevel: 'FULL_TRANSITIVE',
    });
    // A subject with its own level keeps it; one without inherits the tenant's.
    expect((await call('GET', `/config/${subject}`)).body).toMatchObject({
      compatibilityLevel: 'BACKWARD',
    });
    expect(await call('GET', '/config/other.thing.done')).toMatchObject({
      status: 404,
      body: { error_code: 40408 },
    });
    expect((await call('GET', '/config/other.thing.done?defaultToGlobal=true')).body).toMatchObject(
      { compatibilityLevel: 'FULL_TRANSITIVE' },
    );
    expect(await call('PUT', '/config', { compatibility: 'SIDEWAYS' })).toMatchObject({
      status: 422,
      body: { error_code: 42203 },
    });
    await call('PUT', '/config', { compatibility: 'BACKWARD' });
  });

  it('resolves references to other subjects through the client', async () => {
    const registry = client();
    // Confluent's JSON Schema references: the name is the referenced schema's `$id`.
    const name = 'https://schemas.example.com/address.json';
    const address = JSON.stringify({
      $id: name,
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
      required: ['city'],
    });
    await registry.register(
      { type: SchemaType.JSON, schema: address },
      { subject: 'common.address' },
    );
    // A client adds referenced schemas to its ajv by `$id`: one client per schema here.
    const { id } = await client().register(
      {
        type: SchemaType.JSON,
        schema: JSON.stringify({
          type: 'object',
          properties: { name: { type: 'string' }, home: { $ref: name } },
        }),
        references: [{ name, subject: 'common.address', version: 1 }],
      },
      { subject: 'hr.person.moved' },
    );
    const fetched = client();
    await expect(
      fetched.encode(id, { name: 'Ada', home: { city: 'London' } }),
    ).resolves.toBeInstanceOf(Buffer);
    await expect(fetched.encode(id, { name: 'Ada', home: { street: 'x' } })).rejects.toThrow();
    expect((await call('GET', `/subjects/hr.person.moved/versions/1`)).body).toMatchObject({
      references: [{ name, subject: 'common.address', version: 1 }],
    });
  });

  it("is tenant-scoped: another tenant's client sees none of it (404 for subjects and ids)", async () => {
    const other = await t.token('globex', ['schemas:write', 'events:read']);
    const registry = client(other);
    await expect(registry.getLatestSchemaId(subject)).rejects.toMatchObject({ status: 404 });
    await expect(registry.getSchema(v1)).rejects.toMatchObject({ status: 404 });
    expect((await call('GET', '/subjects', undefined, other)).body).toEqual([]);
    expect(await call('GET', `/schemas/ids/${v1}`, undefined, other)).toMatchObject({
      status: 404,
      body: { error_code: 40403 },
    });
    // The same schema registered by the other tenant is a separate id and version 1.
    const { id } = await registry.register(
      { type: SchemaType.JSON, schema: person() },
      { subject },
    );
    expect(id).not.toBe(v1);
    expect((await call('GET', `/subjects/${subject}/versions`, undefined, other)).body).toEqual([
      1,
    ]);
  });

  it('needs a token, and schemas:write to register', async () => {
    const anonymous = await fetch(`${base}/subjects`);
    expect(anonymous.status).toBe(401);
    const reader = await t.token('acme', ['events:read']);
    expect(
      await call('POST', '/subjects/x.y.z/versions', { schema: person() }, reader),
    ).toMatchObject({ status: 403, body: { error_code: 403 } });
  });
});
