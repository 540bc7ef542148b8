import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

// Errors Fastify raises before a route runs still reach clients as problem+json.
describe('errors raised before routing', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.close());

  it('an over-long path parameter is a 414 problem', async () => {
    const response = await t.hub.server.inject({
      method: 'GET',
      url: `/v1/rules/${'a'.repeat(2305)}`,
      headers: await t.auth('acme', ['events:read']),
    });
    expect(response.statusCode).toBe(414);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({
      status: 414,
      title: 'URI too long',
      detail: 'a path parameter is longer than 2304 characters (percent-encoded)',
    });
  });

  it('a JSON body nested deeper than 256 levels is a 400 problem, not a stack overflow', async () => {
    const response = await t.hub.server.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: { ...(await t.auth('acme', ['rules:write'])), 'content-type': 'application/json' },
      payload: `{"name":"deep","pattern":{"a":${'['.repeat(6000)}${']'.repeat(6000)}}}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const pointer = `/pattern/a${'/0'.repeat(254)}`;
    expect(response.json()).toMatchObject({
      type: 'urn:portico:problem:validation',
      detail: `body is invalid: ${pointer} is nested deeper than 256 levels`,
      errors: [{ pointer, detail: 'is nested deeper than 256 levels', in: 'body' }],
    });
  });

  it('a body that is not JSON is a 415 problem that says what to send', async () => {
    const auth = await t.auth('acme', ['rules:write']);
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const response = await t.hub.server.inject({
        method: 'POST',
        url: '/v1/rules',
        headers: { ...auth, 'content-type': type },
        payload: '{"name":"plain"}',
      });
      expect(response.statusCode, type).toBe(415);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({
        type: 'urn:portico:problem:unsupported-media-type',
        detail: 'the request body must be JSON: send it with content-type: application/json',
      });
    }
  });

  it('a malformed percent-encoding is a 400 problem', async () => {
    const response = await t.hub.server.inject({
      method: 'GET',
      url: '/v1/rules/%E0%A4%A',
      headers: await t.auth('acme', ['events:read']),
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().detail).toContain('malformed');
  });
});

// What Node's HTTP parser refuses never reaches Fastify's routing: it is answered on the
// socket, as problem+json too, and the connection is closed.
describe('requests that are not valid HTTP', () => {
  let t: TestHub;
  let port: number;
  beforeAll(async () => {
    t = await startTestHub();
    port = Number(new URL(await t.hub.server.listen({ port: 0, host: '127.0.0.1' })).port);
  });
  afterAll(() => t.close());

  /** Sends raw bytes; resolves with everything the hub wrote before it closed. */
  function raw(bytes: string): Promise<{ status: number; type: string; body: unknown }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const [head, body] = text.split('\r\n\r\n');
        resolve({
          status: Number(head!.split(' ')[1]),
          type: /content-type: ([^\r]+)/i.exec(head!)?.[1] ?? '',
          body: JSON.parse(body!),
        });
      });
    });
  }

  it('headers past the size limit are a 431 problem', async () => {
    const res = await raw(
      `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(res.status).toBe(431);
    expect(res.type).toBe('application/problem+json');
    expect(res.body).toMatchObject({
      type: 'urn:portico:problem:payload-too-large',
      status: 431,
      detail: expect.stringMatching(/exceed the server's limit of \d+ bytes/),
    });
  });

  it('malformed framing is a 400 problem that names the parser error, not the bytes', async () => {
    const res = await raw(
      'POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\nx-secret: hunter2\r\n\r\n',
    );
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body).toMatchObject({
      type: 'urn:portico:problem:validation',
      title: 'Malformed HTTP request',
      status: 400,
      detail: expect.stringMatching(/^the request is not valid HTTP\/1\.1 \(HPE_[A-Z_]+\)$/),
    });
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });
});
