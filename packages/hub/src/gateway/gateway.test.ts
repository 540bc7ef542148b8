/**
 * The gateway against real local upstream HTTP servers: routing and header hygiene, scopes,
 * rate limits under a burst, the response cache, timeouts, the circuit breaker, retries,
 * lifecycle headers, size limits and CORS.
 */
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../auth/principal.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

type Seen = { method: string; url: string; headers: IncomingMessage['headers']; body: string };

/** A real upstream: records every request and answers with the test's handler. */
async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let t: TestHub;
const upstreams: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  t = await startTestHub({
    gateway: {
      upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
      defaults: { timeoutMs: 5000, retries: 0 },
      cors: { origins: ['https://portal.example.com'] },
      entryPoints: [{ host: 'incidents.example.com', domains: ['incidents'] }],
    },
  });
});
afterAll(async () => {
  await t.close();
  await Promise.all(upstreams.map((u) => u.close()));
});

async function upstream(handler: Parameters<typeof startUpstream>[0]) {
  const u = await startUpstream(handler);
  upstreams.push(u);
  return u;
}

async function defineApi(tenant: string, name: string, versions: unknown[], domain = 'test') {
  const res = await t.hub.server.inject({
    method: 'PUT',
    url: `/v1/dictionary/apis/${name}`,
    headers: {
      ...(await t.auth(tenant, ['dictionary:write'])),
      'content-type': 'application/json',
    },
    payload: JSON.stringify({ domain, versions }),
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

async function call(
  method: string,
  url: string,
  options: {
    tenant?: string;
    scopes?: Scope[];
    headers?: Record<string, string>;
    body?: string;
    subject?: string;
  } = {},
) {
  const token = await t.hub.devIssuer!.mint({
    tenant: options.tenant ?? 'acme',
    scopes: options.scopes ?? [],
    ...(options.subject ? { subject: options.subject } : {}),
  });
  return t.hub.server.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${token}`, ...options.headers },
    ...(options.body !== undefined ? { payload: options.body } : {}),
  });
}

const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** The hub's port, listening on loopback from the first test that needs a socket. */
async function listeningPort(): Promise<number> {
  const address = t.hub.server.server.address() as AddressInfo | null;
  if (address) return address.port;
  return Number(new URL(await t.hub.server.listen({ port: 0, host: '127.0.0.1' })).port);
}

describe('gateway', () => {
  it('proxies to the version upstream with clean, trusted headers', async () => {
    const u = await upstream((_req, res) =>
      json(
        res,
        200,
        { ok: true },
        { 'x-upstream': 'yes', 'keep-alive': 'timeout=5', 'x-hop': 'drop me', connection: 'x-hop' },
      ),
    );
    await defineApi('acme', 'orders', [{ version: 'v2', upstream: `${u.url}/base/` }]);
    const res = await call('GET', '/api/orders/v2/items/42?expand=lines&x=%20y', {
      headers: {
        'x-portico-tenant': 'globex',
        'x-portico-subject': 'root',
        connection: 'x-secret',
        'x-secret': 'hop',
        'x-request-id': 'req-123',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'x-forwarded-for': '203.0.113.9',
        forwarded: 'for=203.0.113.9;host=evil.example.com',
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(res.headers['x-upstream']).toBe('yes');
    expect(res.headers['keep-alive']).toBeUndefined();
    expect(res.headers['x-hop']).toBeUndefined();
    const seen = u.seen[0]!;
    expect(seen.url).toBe('/base/items/42?expand=lines&x=%20y');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-portico-tenant']).toBe('acme');
    expect(seen.headers['x-portico-subject']).toBe('dev-user');
    expect(seen.headers['x-secret']).toBeUndefined();
    expect(seen.headers['x-request-id']).toBe('req-123');
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    // The caller's Forwarded element is kept, the gateway's own is the last word.
    expect(seen.headers.forwarded).toBe(
      `for=203.0.113.9;host=evil.example.com, for=127.0.0.1;host="${seen.headers['x-forwarded-host']}";proto=http`,
    );
    expect(seen.headers.traceparent).toMatch(
      /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/,
    );

    const posted = await call('POST', '/api/orders/v2/items', {
      headers: { 'content-type': 'application/json' },
      body: '{"sku":"a"}',
    });
    expect(posted.statusCode).toBe(200);
    expect(u.seen[1]).toMatchObject({ method: 'POST', url: '/base/items', body: '{"sku":"a"}' });
    const metrics = await t.hub.metrics.metrics();
    expect(metrics).toContain(
      'portico_gateway_requests_total{route="orders/v2",outcome="proxied"} 2',
    );
    expect(metrics).toMatch(
      /portico_gateway_upstream_seconds_count\{route="orders\/v2",status="2xx"\} 2/,
    );
    expect(metrics).toContain('# TYPE portico_gateway_upstream_seconds histogram');
    expect(metrics).toContain(
      'portico_gateway_upstream_seconds_bucket{route="orders/v2",status="2xx",le="10"} 2',
    );
    expect(metrics).toContain(
      'portico_gateway_upstream_seconds_bucket{route="orders/v2",status="2xx",le="+Inf"} 2',
    );
  });

  it('answers 401, 404 and 400 before calling anything', async () => {
    const u = await upstream((_req, res) => json(res, 200, {}));
    await defineApi('acme', 'private', [{ version: 'v1', upstream: u.url }]);
    const anonymous = await t.hub.server.inject({ method: 'GET', url: '/api/private/v1/x' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toContain('application/problem+json');
    // Another tenant's API does not exist for this caller.
    expect((await call('GET', '/api/private/v1/x', { tenant: 'globex' })).statusCode).toBe(404);
    expect((await call('GET', '/api/private/v9/x')).statusCode).toBe(404);
    // Dot segments: inject (a WHATWG URL) would normalise them away, so a raw socket sends them.
    const port = await listeningPort();
    const token = await t.token('acme', []);
    for (const path of [
      '/api/private/v1/a/../../../etc',
      '/api/private/v1/a/%2e%2E/x',
      '/api/private/v1/a%2F..%2F..%2Fetc',
      '/api/private/v1/a\\..\\x',
      // Servlet containers read `..;` as `..`; URL parsers stop the path at `#`.
      '/api/private/v1/..;/admin',
      '/api/private/v1/a/%2e%2e%3Bjsessionid=1/x',
      '/api/private/v1/..#',
      // A NUL ends the path for servers written in C: `..%00` is `..` there.
      '/api/private/v1/a/..%00/x',
    ]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path,
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(status, path).toBe(400);
    }
    expect(u.seen).toHaveLength(0);
  });

  it('requires the version policy scopes', async () => {
    const u = await upstream((_req, res) => json(res, 200, {}));
    await defineApi('acme', 'scoped', [
      { version: 'v1', upstream: u.url, policy: { scopes: ['events:read'] } },
    ]);
    const denied = await call('GET', '/api/scoped/v1/');
    expect(denied.statusCode).toBe(403);
    expect(denied.json().detail).toContain('events:read');
    expect((await call('GET', '/api/scoped/v1/', { scopes: ['events:read'] })).statusCode).toBe(
      200,
    );
    expect((await call('GET', '/api/scoped/v1/', { scopes: ['admin'] })).statusCode).toBe(200);
    expect(u.seen).toHaveLength(2);
  });

  it('answers 429 with RateLimit and Retry-After under a burst, per tenant and per client', async () => {
    const u = await upstream((_req, res) => json(res, 200, {}));
    await defineApi('acme', 'limited', [
      {
        version: 'v1',
        upstream: u.url,
        policy: {
          rateLimit: { tenant: { burst: 5, perSecond: 0.1 }, client: { burst: 3, perSecond: 0.1 } },
        },
      },
    ]);
    const burst = await Promise.all(
      Array.from({ length: 6 }, () => call('GET', '/api/limited/v1/x', { subject: 'alice' })),
    );
    const codes = burst.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 200, 200, 429, 429, 429]);
    const limited = burst.find((r) => r.statusCode === 429)!;
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json()).toMatchObject({ type: 'urn:portico:problem:rate-limited', status: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['ratelimit']).toMatch(/^"client";r=0;t=\d+$/);
    expect(limited.headers['ratelimit-policy']).toBe('"tenant";q=5;w=50, "client";q=3;w=30');
    const ok = burst.find((r) => r.statusCode === 200)!;
    expect(ok.headers['ratelimit']).toMatch(/^"client";r=\d;t=\d+$/);
    // Refused requests spent nothing: the tenant has 2 of 5 left, which another client gets.
    const bob = await Promise.all(
      Array.from({ length: 4 }, () => call('GET', '/api/limited/v1/x', { subject: 'bob' })),
    );
    expect(bob.map((r) => r.statusCode).sort()).toEqual([200, 200, 429, 429]);
    const tenantLimited = bob.find((r) => r.statusCode === 429)!;
    expect(tenantLimited.headers['ratelimit']).toMatch(/^"tenant";r=0;t=\d+$/);
    // Another tenant is not affected.
    await defineApi('globex', 'limited', [
      {
        version: 'v1',
        upstream: u.url,
        policy: { rateLimit: { tenant: { burst: 5, perSecond: 0.1 } } },
      },
    ]);
    expect((await call('GET', '/api/limited/v1/x', { tenant: 'globex' })).statusCode).toBe(200);
  });

  it('caches what a shared cache may, per tenant and per Vary', async () => {
    let n = 0;
    const u = await upstream((req, res) => {
      n += 1;
      if (req.url === '/nostore') return json(res, 200, { n }, { 'cache-control': 'no-store' });
      json(
        res,
        200,
        { n, lang: req.headers['accept-language'] ?? '' },
        { 'cache-control': 'max-age=60', vary: 'Accept-Language' },
      );
    });
    const policy = { cache: true };
    await defineApi('acme', 'cached', [{ version: 'v1', upstream: u.url, policy }]);
    await defineApi('globex', 'cached', [{ version: 'v1', upstream: u.url, policy }]);
    const en = { 'accept-language': 'en' };
    const first = await call('GET', '/api/cached/v1/a', { headers: en });
    expect(first.headers['x-portico-cache']).toBe('MISS');
    const second = await call('GET', '/api/cached/v1/a', { headers: en });
    expect(second.headers['x-portico-cache']).toBe('HIT');
    expect(second.json()).toEqual(first.json());
    expect(second.headers.age).toBeDefined();
    expect(n).toBe(1);
    const fr = await call('GET', '/api/cached/v1/a', { headers: { 'accept-language': 'fr' } });
    expect(fr.headers['x-portico-cache']).toBe('MISS');
    expect(fr.json()).toEqual({ n: 2, lang: 'fr' });
    expect(
      (await call('GET', '/api/cached/v1/a', { headers: { 'accept-language': 'fr' } })).headers[
        'x-portico-cache'
      ],
    ).toBe('HIT');
    const otherTenant = await call('GET', '/api/cached/v1/a', { tenant: 'globex', headers: en });
    expect(otherTenant.headers['x-portico-cache']).toBe('MISS');
    expect(n).toBe(3);
    expect((await call('GET', '/api/cached/v1/nostore')).headers['x-portico-cache']).toBe('BYPASS');
    expect((await call('GET', '/api/cached/v1/nostore')).headers['x-portico-cache']).toBe('BYPASS');
    expect(
      (await call('GET', '/api/cached/v1/a', { headers: { ...en, 'cache-control': 'no-cache' } }))
        .headers['x-portico-cache'],
    ).toBe('MISS');
    expect(
      (await call('POST', '/api/cached/v1/a', { headers: en })).headers['x-portico-cache'],
    ).toBeUndefined();
  });

  it("never serves one caller's forwarded-Authorization answer to another", async () => {
    const u = await upstream((req, res) =>
      json(res, 200, { me: req.headers['x-portico-subject'] }, { 'cache-control': 'max-age=60' }),
    );
    await defineApi('acme', 'profile', [
      { version: 'v1', upstream: u.url, policy: { cache: true, forwardAuthorization: true } },
    ]);
    const alice = await call('GET', '/api/profile/v1/me', { subject: 'alice' });
    expect(alice.json()).toEqual({ me: 'alice' });
    const bob = await call('GET', '/api/profile/v1/me', { subject: 'bob' });
    expect(bob.json()).toEqual({ me: 'bob' });
    expect(bob.headers['x-portico-cache']).not.toBe('HIT');
  });

  it('varies an answer that says Vary: Authorization on the caller, though the token is not sent', async () => {
    const u = await upstream((req, res) =>
      json(
        res,
        200,
        { me: req.headers['x-portico-subject'] },
        { 'cache-control': 'max-age=60', vary: 'Authorization' },
      ),
    );
    await defineApi('acme', 'whoami', [
      { version: 'v1', upstream: u.url, policy: { cache: true } },
    ]);
    const alice = await call('GET', '/api/whoami/v1/me', { subject: 'alice' });
    expect(alice.json()).toEqual({ me: 'alice' });
    const bob = await call('GET', '/api/whoami/v1/me', { subject: 'bob' });
    expect(bob.json()).toEqual({ me: 'bob' });
    expect(bob.headers['x-portico-cache']).toBe('MISS');
    const again = await call('GET', '/api/whoami/v1/me', { subject: 'alice' });
    expect(again.headers['x-portico-cache']).toBe('HIT');
    expect(again.json()).toEqual({ me: 'alice' });
  });

  it('answers a 304 that carries the representation length (RFC 9110 §8.6), cached or not', async () => {
    // Written by hand: Node's server would not send it as it stands.
    const u = await upstream((req) =>
      req.socket.end('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\n\r\n'),
    );
    await defineApi('acme', 'conditional', [
      { version: 'v1', upstream: u.url },
      { version: 'cached', upstream: u.url, policy: { cache: true } },
    ]);
    for (const version of ['v1', 'cached']) {
      const res = await call('GET', `/api/conditional/${version}/doc`, {
        headers: { 'if-none-match': '"v1"' },
      });
      expect(res.statusCode, version).toBe(304);
      expect(res.headers.etag).toBe('"v1"');
      expect(res.body).toBe('');
    }
  });

  it('turns an upstream that breaks off or stalls mid-body into a 502 or 504, also when caching', async () => {
    const u = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('part of it');
      // /broken: the connection ends early; /stalled: the rest never comes.
      if (req.url === '/broken') setTimeout(() => req.socket.destroy(), 20);
    });
    await defineApi('acme', 'partial', [
      { version: 'v1', upstream: u.url, policy: { cache: true, timeoutMs: 200 } },
    ]);
    const broken = await call('GET', '/api/partial/v1/broken');
    expect(broken.statusCode).toBe(502);
    expect(broken.headers['content-type']).toContain('application/problem+json');
    const stalled = await call('GET', '/api/partial/v1/stalled');
    expect(stalled.statusCode).toBe(504);
    expect(stalled.json()).toMatchObject({ type: 'urn:portico:problem:upstream' });
  });

  it('passes the body of a GET through, uncached, and refuses TRACE', async () => {
    const u = await upstream((_req, res, body) =>
      json(res, 200, { body }, { 'cache-control': 'max-age=60' }),
    );
    await defineApi('acme', 'search', [
      { version: 'v1', upstream: u.url, policy: { cache: true } },
    ]);
    const search = (query: string) =>
      call('GET', '/api/search/v1/_search', {
        body: query,
        headers: { 'content-type': 'application/json' },
      });
    expect((await search('{"q":"a"}')).json()).toEqual({ body: '{"q":"a"}' });
    // Same URL, another body: another answer, not the first one from the cache.
    expect((await search('{"q":"b"}')).json()).toEqual({ body: '{"q":"b"}' });
    const trace = await call('TRACE', '/api/search/v1/_search');
    expect(trace.statusCode).toBe(405);
    expect(trace.headers['content-type']).toContain('application/problem+json');
    expect(trace.headers.allow).toContain('GET');
    expect(u.seen).toHaveLength(2);
  });

  it('turns a slow upstream into a 504 problem', async () => {
    const u = await upstream((_req, res) => {
      setTimeout(() => json(res, 200, {}), 1500).unref();
    });
    await defineApi('acme', 'slow', [
      { version: 'v1', upstream: u.url, policy: { timeoutMs: 150 } },
    ]);
    const res = await call('GET', '/api/slow/v1/x');
    expect(res.statusCode).toBe(504);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 504, type: 'urn:portico:problem:upstream' });
  });

  it('keeps the upstream status of its errors, in the problem model', async () => {
    const u = await upstream((req, res) => {
      if (req.url === '/problem')
        return json(
          res,
          422,
          { type: 'urn:shop:invalid', title: 'Invalid', status: 422, detail: 'sku' },
          { 'content-type': 'application/problem+json' },
        );
      json(res, 404, { error: 'no such order' });
    });
    await defineApi('acme', 'errors', [{ version: 'v1', upstream: u.url }]);
    const notFound = await call('GET', '/api/errors/v1/orders/9');
    expect(notFound.statusCode).toBe(404);
    expect(notFound.headers['content-type']).toContain('application/problem+json');
    expect(notFound.json()).toMatchObject({
      status: 404,
      type: 'urn:portico:problem:upstream',
      upstream: { error: 'no such order' },
    });
    const passed = await call('GET', '/api/errors/v1/problem');
    expect(passed.statusCode).toBe(422);
    expect(passed.json()).toMatchObject({ type: 'urn:shop:invalid', detail: 'sku' });
    // Nothing listens here: upstream down is a 502.
    await defineApi('acme', 'down', [{ version: 'v1', upstream: 'http://127.0.0.1:1' }]);
    const down = await call('GET', '/api/down/v1/x');
    expect(down.statusCode).toBe(502);
    expect(down.json().type).toBe('urn:portico:problem:upstream');
  });

  it('opens the circuit after failures and closes it after a good trial', async () => {
    let healthy = false;
    const u = await upstream((_req, res) =>
      healthy ? json(res, 200, { ok: true }) : json(res, 500, { boom: true }),
    );
    await defineApi('acme', 'flaky', [
      {
        version: 'v1',
        upstream: u.url,
        policy: { circuitBreaker: { failures: 2, openSeconds: 0.5 } },
      },
    ]);
    expect((await call('GET', '/api/flaky/v1/x')).statusCode).toBe(500);
    expect((await call('GET', '/api/flaky/v1/x')).statusCode).toBe(500);
    const open = await call('GET', '/api/flaky/v1/x');
    expect(open.statusCode).toBe(503);
    expect(open.headers['retry-after']).toBe('1');
    expect(open.json().type).toBe('urn:portico:problem:unavailable');
    expect(u.seen).toHaveLength(2); // failed fast, the upstream was spared
    healthy = true;
    await new Promise((r) => setTimeout(r, 600));
    expect((await call('GET', '/api/flaky/v1/x')).statusCode).toBe(200);
    expect((await call('GET', '/api/flaky/v1/x')).statusCode).toBe(200);
    expect(u.seen).toHaveLength(4);
  });

  it("never lets one tenant open another tenant's circuit to a shared upstream", async () => {
    const u = await upstream((req, res) =>
      req.url === '/fail' ? json(res, 500, { boom: true }) : json(res, 200, { ok: true }),
    );
    await defineApi('acme', 'billing', [{ version: 'v1', upstream: u.url }]);
    // Globex points its own API at the same internal service, with a hair-trigger breaker.
    await defineApi('globex', 'grief', [
      {
        version: 'v1',
        upstream: u.url,
        policy: { circuitBreaker: { failures: 1, openSeconds: 3600 } },
      },
    ]);
    expect((await call('GET', '/api/grief/v1/fail', { tenant: 'globex' })).statusCode).toBe(500);
    expect((await call('GET', '/api/grief/v1/x', { tenant: 'globex' })).statusCode).toBe(503);
    const acme = await call('GET', '/api/billing/v1/x');
    expect(acme.statusCode).toBe(200);
    expect(acme.json()).toEqual({ ok: true });
  });

  it('refuses a subject no header can carry without blaming the upstream', async () => {
    const u = await upstream((_req, res) => json(res, 200, { ok: true }));
    await defineApi('acme', 'intl', [
      {
        version: 'v1',
        upstream: u.url,
        policy: { circuitBreaker: { failures: 1, openSeconds: 3600 } },
      },
    ]);
    const res = await call('GET', '/api/intl/v1/x', { subject: '日本' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toMatch(/subject or scopes/);
    // Latin-1 still goes through as before, and the circuit stayed closed.
    const latin = await call('GET', '/api/intl/v1/x', { subject: 'zoë' });
    expect(latin.statusCode).toBe(200);
    expect(u.seen.map((s) => s.headers['x-portico-subject'])).toEqual(['zoë']);
  });

  it('retries idempotent methods only', async () => {
    let failuresLeft = 0;
    const u = await upstream((_req, res) => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        return json(res, 503, { busy: true });
      }
      json(res, 200, { ok: true });
    });
    await defineApi('acme', 'retry', [{ version: 'v1', upstream: u.url, policy: { retries: 2 } }]);
    failuresLeft = 2;
    const get = await call('GET', '/api/retry/v1/x');
    expect(get.statusCode).toBe(200);
    expect(u.seen).toHaveLength(3);
    failuresLeft = 1;
    const put = await call('PUT', '/api/retry/v1/x', {
      body: 'v',
      headers: { 'content-type': 'text/plain' },
    });
    expect(put.statusCode).toBe(200);
    expect(u.seen.slice(3).map((s) => s.body)).toEqual(['v', 'v']);
    failuresLeft = 1;
    const post = await call('POST', '/api/retry/v1/x', {
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(post.statusCode).toBe(503);
    expect(post.json()).toMatchObject({ status: 503, upstream: { busy: true } });
    expect(u.seen).toHaveLength(6);
    failuresLeft = 1;
    expect(
      (
        await call('PATCH', '/api/retry/v1/x', {
          body: '{}',
          headers: { 'content-type': 'application/json' },
        })
      ).statusCode,
    ).toBe(503);
    expect(u.seen).toHaveLength(7);
  });

  it('announces deprecation, refuses sunset versions, limits body size, answers CORS', async () => {
    const u = await upstream((_req, res) => json(res, 200, {}));
    await defineApi('acme', 'life', [
      {
        version: 'v1',
        upstream: u.url,
        status: 'deprecated',
        deprecatedAt: '2026-01-01T00:00:00Z',
        sunsetAt: '2099-01-01T00:00:00Z',
        link: 'https://docs.example.com/v2',
      },
      { version: 'v0', upstream: u.url, status: 'sunset', sunsetAt: '2026-06-01T00:00:00Z' },
      { version: 'v2', upstream: u.url, policy: { maxRequestBytes: 10 } },
    ]);
    const old = await call('GET', '/api/life/v1/x');
    expect(old.statusCode).toBe(200);
    expect(old.headers.deprecation).toBe(`@${Date.parse('2026-01-01T00:00:00Z') / 1000}`);
    expect(old.headers.sunset).toBe('Thu, 01 Jan 2099 00:00:00 GMT');
    expect(old.headers.link).toBe('<https://docs.example.com/v2>; rel="deprecation"');
    const gone = await call('GET', '/api/life/v0/x');
    expect(gone.statusCode).toBe(410);
    expect(gone.headers['content-type']).toContain('application/problem+json');
    const big = await call('POST', '/api/life/v2/x', {
      body: 'x'.repeat(11),
      headers: { 'content-type': 'text/plain' },
    });
    expect(big.statusCode).toBe(413);
    expect(u.seen).toHaveLength(1);

    const preflight = await t.hub.server.inject({
      method: 'OPTIONS',
      url: '/api/life/v2/x',
      headers: { origin: 'https://portal.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://portal.example.com');
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
    const stranger = await t.hub.server.inject({
      method: 'OPTIONS',
      url: '/api/life/v2/x',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(stranger.statusCode).toBe(403);
    const actual = await call('GET', '/api/life/v2/x', {
      headers: { origin: 'https://portal.example.com' },
    });
    expect(actual.headers['access-control-allow-origin']).toBe('https://portal.example.com');
    expect(actual.headers['access-control-expose-headers']).toContain('ratelimit');
    expect(actual.headers.vary).toBe('origin');
  });

  it('routes to an override set upstream for requests presenting it', async () => {
    const main = await upstream((_req, res) => json(res, 200, { from: 'main' }));
    const canary = await upstream((_req, res) => json(res, 200, { from: 'canary' }));
    await defineApi('acme', 'canaried', [{ version: 'v1', upstream: main.url }]);
    const created = await t.hub.server.inject({
      method: 'POST',
      url: '/v1/dictionary/overrides',
      headers: {
        ...(await t.auth('acme', ['dictionary:write'])),
        'content-type': 'application/json',
      },
      payload: JSON.stringify({
        name: 'canary',
        patch: [
          { api: 'canaried', version: 'v1', upstream: canary.url },
          { api: 'canaried', version: 'v9', upstream: canary.url },
        ],
      }),
    });
    const { id } = created.json();
    const viaHeader = await call('GET', '/api/canaried/v1/x', {
      headers: { 'x-portico-override': id },
    });
    expect(viaHeader.json()).toEqual({ from: 'canary' });
    expect(viaHeader.headers['x-portico-override-status']).toBe('applied');
    expect(canary.seen[0]!.headers['x-portico-override']).toBeUndefined();
    const viaCookie = await call('GET', '/api/canaried/v9/x', {
      headers: { cookie: `portico-override=${id}` },
    });
    expect(viaCookie.json()).toEqual({ from: 'canary' });
    expect((await call('GET', '/api/canaried/v1/x')).json()).toEqual({ from: 'main' });
    const unknown = await call('GET', '/api/canaried/v1/x', {
      headers: { 'x-portico-override': 'ovr_AAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(unknown.json()).toEqual({ from: 'main' });
    expect(unknown.headers['x-portico-override-status']).toBe('unknown');
    // Another tenant cannot route through it.
    await defineApi('globex', 'canaried', [{ version: 'v1', upstream: main.url }]);
    const other = await call('GET', '/api/canaried/v1/x', {
      tenant: 'globex',
      headers: { 'x-portico-override': id },
    });
    expect(other.json()).toEqual({ from: 'main' });
    expect(other.headers['x-portico-override-status']).toBe('unknown');
  });

  it('streams request bodies through, counted against the limit while they arrive', async () => {
    const u = await upstream((_req, res) =>
      json(res, 200, { ok: true }, { 'content-length': String('{"ok":true}'.length) }),
    );
    await defineApi('acme', 'upload', [
      // One failure would open the circuit: a caller's oversized body must not count.
      {
        version: 'v1',
        upstream: u.url,
        policy: { circuitBreaker: { failures: 1, openSeconds: 60 } },
      },
      { version: 'small', upstream: u.url, policy: { maxRequestBytes: 1000 } },
    ]);
    const token = await t.token('acme', []);
    // A chunked body (no Content-Length): its size is known only as it streams.
    const chunked = (chunks: string[]) =>
      t.hub.server.inject({
        method: 'POST',
        url: '/api/upload/v1/files',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        payload: Readable.from(chunks.map((c) => Buffer.from(c))),
      });
    const big = Array.from({ length: 64 }, (_, i) => String(i % 10).repeat(8192));
    const ok = await chunked(big);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(u.seen.at(-1)!.body).toBe(big.join(''));
    expect(u.seen.at(-1)!.headers['transfer-encoding']).toBe('chunked');
    // Past the gateway's limit (1 MiB by default) while streaming: 413, and the upstream
    // got a broken-off request it never saw the end of.
    const before = u.seen.length;
    const tooBig = await chunked(Array.from({ length: 130 }, () => 'x'.repeat(8192)));
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.headers['content-type']).toContain('application/problem+json');
    expect(u.seen.length).toBe(before);
    expect((await chunked(['after'])).statusCode).toBe(200);
    // Responses stream with the upstream's framing: its Content-Length, also for HEAD.
    const head = await call('HEAD', '/api/upload/v1/files');
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String('{"ok":true}'.length));
    expect(head.body).toBe('');
    const got = await call('GET', '/api/upload/v1/files');
    expect(got.headers['content-length']).toBe(String('{"ok":true}'.length));
    expect(got.headers['transfer-encoding']).toBeUndefined();
    expect(got.json()).toEqual({ ok: true });
    const before2 = u.seen.length;
    // A declared length past the version's limit is refused before anything is read.
    const declared = await call('POST', '/api/upload/small/x', {
      body: 'y'.repeat(1001),
      headers: { 'content-type': 'text/plain' },
    });
    expect(declared.statusCode).toBe(413);
    expect(u.seen.length).toBe(before2);
  });

  it('streams answers straight to the socket: a large body at a slow reader, repeated headers, a client that leaves', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 'z');
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const u = await upstream((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': big.length,
          'set-cookie': ['a=1', 'b=2'],
          'x-many': ['1', '2'],
        });
        return res.end(big);
      }
      // The head and a first chunk, then nothing until the other side goes away.
      res.on('close', () => upstreamClosed());
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
    });
    // A deadline past the test's: only the client leaving can end the slow call in time.
    await defineApi('acme', 'stream', [
      { version: 'v1', upstream: u.url, policy: { timeoutMs: 60_000 } },
    ]);
    const port = await listeningPort();
    const token = await t.token('acme', []);
    const get = (path: string, onResponse: (res: IncomingMessage) => void) => {
      const req = request(
        { host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}` } },
        onResponse,
      );
      req.end();
      return req;
    };
    // The reader stops for a while after the first chunk: the gateway must hold the
    // upstream back, not lose or reorder bytes.
    const received = await new Promise<{ res: IncomingMessage; body: Buffer }>(
      (resolve, reject) => {
        get('/api/stream/v1/big', (res) => {
          const chunks: Buffer[] = [];
          res.once('data', () => {
            res.pause();
            setTimeout(() => res.resume(), 200);
          });
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        }).on('error', reject);
      },
    );
    expect(received.res.statusCode).toBe(200);
    expect(received.res.headers['content-length']).toBe(String(big.length));
    expect(received.res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(received.res.headers['x-many']).toBe('1, 2');
    expect(received.res.headers['x-request-id']).toBeTruthy();
    expect(received.body.equals(big)).toBe(true);
    // A client that leaves mid-body: the gateway drops the upstream call too.
    const left = get('/api/stream/v1/slow', (res) => {
      res.once('data', () => left.destroy());
    });
    left.on('error', () => {});
    await closed;
  });

  it('drops the upstream call of a client that leaves before the answer', async () => {
    let arrived!: () => void;
    const called = new Promise<void>((resolve) => (arrived = resolve));
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    // /x never answers: only the gateway giving up the call closes it.
    const u = await upstream((req, res) => {
      if (req.url !== '/x') return json(res, 200, { ok: true });
      res.on('close', () => upstreamClosed());
      arrived();
    });
    await defineApi('acme', 'patient', [
      {
        version: 'v1',
        upstream: u.url,
        policy: { timeoutMs: 60_000, circuitBreaker: { failures: 1, openSeconds: 60 } },
      },
    ]);
    const port = await listeningPort();
    const token = await t.token('acme', []);
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/api/patient/v1/x',
      headers: { authorization: `Bearer ${token}` },
    });
    req.on('error', () => {});
    req.end();
    await called;
    req.destroy();
    await closed;
    // Not the upstream's failure: its circuit (open after one failure) stays closed, and
    // the outcome says who left.
    expect((await call('GET', '/api/patient/v1/ok')).statusCode).toBe(200);
    const metrics = (await t.hub.server.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(
      /portico_gateway_requests_total\{[^}]*outcome="client_closed"[^}]*\} 1/,
    );
  });

  it('routes an entry point host to its domains only', async () => {
    const u = await upstream((_req, res) => json(res, 200, { ok: true }));
    await defineApi('acme', 'tickets', [{ version: 'v1', upstream: u.url }], 'incidents');
    await defineApi('acme', 'invoices', [{ version: 'v1', upstream: u.url }], 'billing');
    const at = (host: string, path: string) => call('GET', path, { headers: { host } });
    expect((await at('incidents.example.com', '/api/tickets/v1/t-1')).statusCode).toBe(200);
    expect((await at('INCIDENTS.example.com:8443', '/api/tickets/v1/t-1')).statusCode).toBe(200);
    const other = await at('incidents.example.com', '/api/invoices/v1/i-1');
    expect(other.statusCode).toBe(404);
    expect(other.json().detail).toContain('invoices');
    // Any other host is the general entry point: every domain.
    expect((await at('api.example.com', '/api/invoices/v1/i-1')).statusCode).toBe(200);
    expect((await at('api.example.com', '/api/tickets/v1/t-1')).statusCode).toBe(200);
    expect(u.seen).toHaveLength(4);
    expect(u.seen[0]!.headers['x-forwarded-host']).toBe('incidents.example.com');
  });

  it('answers 502 for a token-exchange policy when no token endpoint is configured', async () => {
    const u = await upstream((_req, res) => json(res, 200, { ok: true }));
    await defineApi('acme', 'exchanging', [
      { version: 'v1', upstream: u.url, policy: { tokenExchange: { audience: 'x' } } },
    ]);
    const res = await call('GET', '/api/exchanging/v1/x');
    expect(res.statusCode).toBe(502);
    expect(res.json().detail).toContain('gateway.tokenExchange');
    expect(u.seen).toHaveLength(0);
  });

  it('refuses upstream addresses outside the allowed networks', async () => {
    await defineApi('acme', 'meta', [{ version: 'v1', upstream: 'http://169.254.169.254/latest' }]);
    const res = await call('GET', '/api/meta/v1/meta-data');
    expect(res.statusCode).toBe(502);
    expect(res.json().detail).toContain('not allowed');
  });
});
