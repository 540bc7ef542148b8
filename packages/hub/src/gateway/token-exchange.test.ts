/**
 * RFC 8693 token exchange at the gateway, against a token endpoint started in the test
 * (oidc-provider 8.x has no token-exchange grant among its features; it would have to be
 * written as a custom grant, which is what this small endpoint is) and a real upstream.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

type Exchange = { form: URLSearchParams; authorization: string | undefined };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const exchanges: Exchange[] = [];
/** What the endpoint answers: expires_in per audience, and subject tokens it refuses. */
const behaviour = {
  expiresIn: 3600,
  refuse: new Set<string>(),
  /** Subject tokens answered with this access_token instead of a good one. */
  oddTokens: new Map<string, string>(),
};
const tokenServer = createServer(async (req, res) => {
  const form = new URLSearchParams(await bodyOf(req));
  exchanges.push({ form, authorization: req.headers.authorization });
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const basic = `Basic ${Buffer.from('portico-gateway:s3cret').toString('base64')}`;
  if (req.headers.authorization !== basic) return reply(401, { error: 'invalid_client' });
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange')
    return reply(400, { error: 'unsupported_grant_type' });
  const subject = form.get('subject_token') ?? '';
  if (behaviour.refuse.has(subject))
    return reply(400, { error: 'invalid_grant', error_description: 'internal detail' });
  const odd = behaviour.oddTokens.get(subject);
  if (odd !== undefined) return reply(200, { access_token: odd, token_type: 'Bearer' });
  reply(200, {
    access_token: `exchanged-for-${form.get('audience') ?? form.get('resource')}-${exchanges.length}`,
    issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    token_type: 'Bearer',
    expires_in: behaviour.expiresIn,
  });
});

const seen: { url: string; authorization: string | undefined }[] = [];
const upstreamServer = createServer((req, res) => {
  seen.push({ url: req.url!, authorization: req.headers.authorization });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"ok":true}');
});

let t: TestHub;
let upstream: string;
beforeAll(async () => {
  const tokenEndpoint = `${await listen(tokenServer)}/token`;
  upstream = await listen(upstreamServer);
  t = await startTestHub({
    gateway: {
      upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
      defaults: { timeoutMs: 5000, retries: 0 },
      tokenExchange: {
        tokenEndpoint,
        clientId: 'portico-gateway',
        clientSecret: 's3cret',
        refreshBeforeSeconds: 30,
      },
    },
  });
  const res = await t.hub.server.inject({
    method: 'PUT',
    url: '/v1/dictionary/apis/orders',
    headers: {
      ...(await t.auth('acme', ['dictionary:write'])),
      'content-type': 'application/json',
    },
    payload: JSON.stringify({
      domain: 'commerce',
      versions: [
        { version: 'v1', upstream, policy: { tokenExchange: { audience: 'orders-api' } } },
        {
          version: 'v2',
          upstream,
          policy: {
            tokenExchange: { resource: 'https://orders.internal/', scope: 'orders:read' },
          },
        },
        { version: 'plain', upstream },
      ],
    }),
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
});
afterAll(async () => {
  await t.close();
  tokenServer.closeAllConnections();
  upstreamServer.closeAllConnections();
  tokenServer.close();
  upstreamServer.close();
});

async function call(url: string, token: string) {
  return t.hub.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

describe('token exchange', () => {
  it('sends the upstream an exchanged token, exchanged once per caller token and audience', async () => {
    const alice = await t.hub.devIssuer!.mint({ tenant: 'acme', scopes: [], subject: 'alice' });
    const bob = await t.hub.devIssuer!.mint({ tenant: 'acme', scopes: [], subject: 'bob' });
    exchanges.length = 0;
    seen.length = 0;

    expect((await call('/api/orders/v1/a', alice)).statusCode).toBe(200);
    expect((await call('/api/orders/v1/b', alice)).statusCode).toBe(200);
    expect(exchanges).toHaveLength(1);
    const first = exchanges[0]!.form;
    expect(Object.fromEntries(first)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: alice,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'orders-api',
    });
    expect(seen.map((s) => s.authorization)).toEqual([
      'Bearer exchanged-for-orders-api-1',
      'Bearer exchanged-for-orders-api-1',
    ]);

    // Another caller, and another upstream audience: each its own exchange.
    await call('/api/orders/v1/c', bob);
    await call('/api/orders/v2/d', alice);
    expect(exchanges).toHaveLength(3);
    expect(exchanges[1]!.form.get('subject_token')).toBe(bob);
    expect(exchanges[2]!.form.get('resource')).toBe('https://orders.internal/');
    expect(exchanges[2]!.form.get('scope')).toBe('orders:read');
    expect(seen.slice(2).map((s) => s.authorization)).toEqual([
      'Bearer exchanged-for-orders-api-2',
      'Bearer exchanged-for-https://orders.internal/-3',
    ]);

    // Without the policy option the caller's Authorization is stripped as usual.
    await call('/api/orders/plain/e', alice);
    expect(seen.at(-1)!.authorization).toBeUndefined();
    expect(exchanges).toHaveLength(3);
  });

  it('shares one exchange between concurrent requests of a caller', async () => {
    const carol = await t.hub.devIssuer!.mint({ tenant: 'acme', scopes: [], subject: 'carol' });
    exchanges.length = 0;
    const answers = await Promise.all([1, 2, 3, 4].map((i) => call(`/api/orders/v1/${i}`, carol)));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200]);
    expect(exchanges).toHaveLength(1);
  });

  it('does not reuse a token that would expire within refreshBeforeSeconds', async () => {
    const dave = await t.hub.devIssuer!.mint({ tenant: 'acme', scopes: [], subject: 'dave' });
    exchanges.length = 0;
    behaviour.expiresIn = 20; // below the configured 30 s margin
    try {
      await call('/api/orders/v1/x', dave);
      await call('/api/orders/v1/y', dave);
      expect(exchanges).toHaveLength(2);
    } finally {
      behaviour.expiresIn = 3600;
    }
  });

  it('answers 502 for an exchanged token no Authorization header can carry', async () => {
    const frank = await t.hub.devIssuer!.mint({ tenant: 'acme', scopes: [], subject: 'frank' });
    behaviour.oddTokens.set(frank, 'abc\r\nx-portico-tenant: globex');
    const before = seen.length;
    const res = await call('/api/orders/v1/odd', frank);
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toBe(
      'token exchange for the upstream failed: the token endpoint answered without a bearer access_token',
    );
    expect(seen.length).toBe(before);
    behaviour.oddTokens.delete(frank);
  });

  it('reads no more than 64 KiB of the token endpoint answer', async () => {
    const gina = await t.hub.devIssuer!.mint({ tenant: 'acme', scopes: [], subject: 'gina' });
    behaviour.oddTokens.set(gina, 'a'.repeat(1024 * 1024));
    const before = seen.length;
    const res = await call('/api/orders/v1/huge', gina);
    expect(res.statusCode).toBe(502);
    expect(res.json().detail).toBe(
      'token exchange for the upstream failed: the token endpoint answered without a bearer access_token',
    );
    expect(seen.length).toBe(before);
    behaviour.oddTokens.delete(gina);
  });

  it('answers 502 when the exchange is refused, without calling the upstream or caching', async () => {
    const eve = await t.hub.devIssuer!.mint({ tenant: 'acme', scopes: [], subject: 'eve' });
    behaviour.refuse.add(eve);
    exchanges.length = 0;
    const before = seen.length;
    const res = await call('/api/orders/v1/z', eve);
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain('invalid_grant');
    expect(res.json().detail).not.toContain('internal detail');
    expect(seen.length).toBe(before);
    behaviour.refuse.delete(eve);
    expect((await call('/api/orders/v1/z', eve)).statusCode).toBe(200);
    expect(exchanges).toHaveLength(2);
  });
});
