/** The service dictionary over HTTP: admin API, per-app split, ETag/304, overrides, tenancy. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthenticationError, type Authenticator, type Scope } from '../auth/principal.ts';
import { createHttpServer, type HubServer } from '../http/server.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { rateLimitPlan } from '../gateway/rate-limits.ts';
import { DictionaryStore } from './dictionary-store.ts';
import { createDictionary, lifecycleHeaders } from './index.ts';
import { ConfigError, loadConfig } from '../config/load-config.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t.close());

const WRITER: Scope[] = ['dictionary:write'];

async function call(
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  options: {
    tenant?: string;
    scopes?: Scope[];
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
) {
  const auth = options.tenant ? await t.auth(options.tenant, options.scopes ?? WRITER) : {};
  return t.hub.server.inject({
    method,
    url,
    headers: {
      ...auth,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
  });
}

const orders = {
  domain: 'commerce',
  description: 'Orders',
  versions: [
    {
      version: 'v1',
      baseUrl: 'https://orders.example.com/v1',
      status: 'deprecated',
      deprecatedAt: '2026-01-01T00:00:00Z',
      sunsetAt: '2027-01-01T00:00:00Z',
      link: 'https://docs.example.com/orders-v2',
    },
    { version: 'v2', upstream: 'https://orders.internal.example.com', apps: ['checkout'] },
  ],
};
const people = {
  domain: 'hr',
  versions: [{ version: 'v1', baseUrl: '/api/people/v1', apps: ['directory'] }],
};

describe('dictionary', () => {
  beforeAll(async () => {
    expect(
      (await call('PUT', '/v1/dictionary/apis/orders', { tenant: 'acme', body: orders }))
        .statusCode,
    ).toBe(201);
    expect(
      (await call('PUT', '/v1/dictionary/apis/people', { tenant: 'acme', body: people }))
        .statusCode,
    ).toBe(201);
    await call('PUT', '/v1/dictionary/settings/*', {
      tenant: 'acme',
      body: { refreshSeconds: 300, features: { newNav: false, theme: 'light' } },
    });
    await call('PUT', '/v1/dictionary/settings/checkout', {
      tenant: 'acme',
      body: {
        pollIntervalSeconds: 15,
        backoff: { initialMs: 500, maxMs: 30000, multiplier: 2 },
        features: { newNav: true },
      },
    });
  });

  it('returns every domain, with lifecycle information and without upstreams', async () => {
    const res = await call('GET', '/v1/dictionary', { tenant: 'acme', scopes: [] });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.domains.map((d: { name: string }) => d.name)).toEqual(['commerce', 'hr']);
    const versions = body.domains[0].apis[0].versions;
    expect(versions[0]).toEqual({
      version: 'v1',
      baseUrl: 'https://orders.example.com/v1',
      status: 'deprecated',
      deprecation: '2026-01-01T00:00:00.000Z',
      sunset: '2027-01-01T00:00:00.000Z',
      link: 'https://docs.example.com/orders-v2',
    });
    // A gateway-served version is published at its gateway path; the upstream stays private.
    expect(versions[1]).toEqual({ version: 'v2', baseUrl: '/api/orders/v2', status: 'stable' });
    expect(res.body).not.toContain('internal.example.com');
    expect(body.settings).toEqual({
      refreshSeconds: 300,
      features: { newNav: false, theme: 'light' },
    });
    expect(res.headers['cache-control']).toBe('private, max-age=30, must-revalidate');
  });

  it('?app= keeps only what that micro-frontend may see, with its settings', async () => {
    const res = await call('GET', '/v1/dictionary?app=checkout', { tenant: 'acme', scopes: [] });
    const body = res.json();
    expect(body.domains).toHaveLength(1);
    expect(body.domains[0].apis[0].versions.map((v: { version: string }) => v.version)).toEqual([
      'v1',
      'v2',
    ]);
    expect(body.settings).toEqual({
      refreshSeconds: 300,
      pollIntervalSeconds: 15,
      backoff: { initialMs: 500, maxMs: 30000, multiplier: 2 },
      features: { newNav: true, theme: 'light' },
    });
    const directory = (
      await call('GET', '/v1/dictionary?app=directory', { tenant: 'acme', scopes: [] })
    ).json();
    expect(directory.domains.map((d: { name: string }) => d.name)).toEqual(['commerce', 'hr']);
    expect(
      directory.domains[0].apis[0].versions.map((v: { version: string }) => v.version),
    ).toEqual(['v1']);
  });

  it('answers 304 to a matching If-None-Match, and a new ETag after a change', async () => {
    const first = await call('GET', '/v1/dictionary?app=checkout', { tenant: 'acme', scopes: [] });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await call('GET', '/v1/dictionary?app=checkout', {
      tenant: 'acme',
      scopes: [],
      headers: { 'if-none-match': `W/"x", ${etag}` },
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);

    await call('PUT', '/v1/dictionary/settings/checkout', {
      tenant: 'acme',
      body: { pollIntervalSeconds: 20 },
    });
    const changed = await call('GET', '/v1/dictionary?app=checkout', {
      tenant: 'acme',
      scopes: [],
      headers: { 'if-none-match': etag },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json().settings.pollIntervalSeconds).toBe(20);
  });

  it('applies an override set from the header or the cookie, for anonymous callers too', async () => {
    const created = await call('POST', '/v1/dictionary/overrides', {
      tenant: 'acme',
      body: {
        name: 'orders v2 canary',
        ttlSeconds: 600,
        patch: [
          { api: 'orders', version: 'v2', baseUrl: 'https://canary.example.com/orders/v2' },
          {
            api: 'search',
            domain: 'discovery',
            version: 'v3',
            baseUrl: 'https://search-next.example.com',
          },
        ],
      },
    });
    expect(created.statusCode).toBe(201);
    const { id } = created.json();
    expect(id).toMatch(/^ovr_[A-Za-z0-9_-]{24}$/);

    const viaHeader = await call('GET', '/v1/dictionary', {
      tenant: 'acme',
      scopes: [],
      headers: { 'x-portico-override': id },
    });
    expect(viaHeader.headers['x-portico-override-status']).toBe('applied');
    const body = viaHeader.json();
    expect(body.override).toMatchObject({ id, name: 'orders v2 canary' });
    const commerce = body.domains.find((d: { name: string }) => d.name === 'commerce');
    expect(commerce.apis[0].versions[1].baseUrl).toBe('https://canary.example.com/orders/v2');
    expect(body.domains.map((d: { name: string }) => d.name)).toEqual([
      'commerce',
      'discovery',
      'hr',
    ]);

    // Anonymous: only once the tenant made its dictionary public.
    const closed = await call('GET', '/v1/dictionary?tenant=acme', {
      headers: { cookie: `a=b; portico-override=${id}` },
    });
    expect(closed.statusCode).toBe(401);
    expect(closed.headers['content-type']).toContain('application/problem+json');
    await call('PUT', '/v1/dictionary/access', { tenant: 'acme', body: { anonymous: true } });
    const anonymous = await call('GET', '/v1/dictionary?tenant=acme', {
      headers: { cookie: `a=b; portico-override=${id}` },
    });
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.headers['x-portico-override-status']).toBe('applied');
    expect(anonymous.json().override.id).toBe(id);
    const plain = await call('GET', '/v1/dictionary?tenant=acme');
    expect(plain.statusCode).toBe(200);
    expect(plain.json().override).toBeUndefined();
    expect(plain.headers['x-portico-override-status']).toBeUndefined();

    // Another tenant's callers cannot use it: it is unknown there.
    const other = await call('GET', '/v1/dictionary', {
      tenant: 'globex',
      scopes: [],
      headers: { 'x-portico-override': id },
    });
    expect(other.statusCode).toBe(200);
    expect(other.headers['x-portico-override-status']).toBe('unknown');
    expect(other.json().domains).toEqual([]);
  });

  it('ignores unknown and expired override ids, saying so', async () => {
    const unknown = await call('GET', '/v1/dictionary', {
      tenant: 'acme',
      scopes: [],
      headers: { 'x-portico-override': 'ovr_AAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(unknown.statusCode).toBe(200);
    expect(unknown.headers['x-portico-override-status']).toBe('unknown');
    const garbage = await call('GET', '/v1/dictionary', {
      tenant: 'acme',
      scopes: [],
      headers: { 'x-portico-override': "'; drop table" },
    });
    expect(garbage.headers['x-portico-override-status']).toBe('unknown');

    const created = await call('POST', '/v1/dictionary/overrides', {
      tenant: 'acme',
      body: {
        name: 'short',
        ttlSeconds: 1,
        patch: [{ api: 'orders', version: 'v2', baseUrl: 'https://short.example.com' }],
      },
    });
    const { id } = created.json();
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await call('GET', '/v1/dictionary', {
      tenant: 'acme',
      scopes: [],
      headers: { 'x-portico-override': id },
    });
    expect(expired.statusCode).toBe(200);
    expect(expired.headers['x-portico-override-status']).toBe('expired');
    expect(expired.body).not.toContain('short.example.com');
    const listed = (await call('GET', '/v1/dictionary/overrides', { tenant: 'acme' })).json();
    expect(listed.overrides.find((o: { id: string }) => o.id === id).expired).toBe(true);
  });

  it('keeps tenants apart and checks scopes on the admin API', async () => {
    expect(
      (await call('GET', '/v1/dictionary/apis', { tenant: 'acme', scopes: ['events:read'] }))
        .statusCode,
    ).toBe(403);
    expect((await call('PUT', '/v1/dictionary/apis/x', { body: people })).statusCode).toBe(401);
    expect((await call('GET', '/v1/dictionary/apis/orders', { tenant: 'globex' })).statusCode).toBe(
      404,
    );
    expect(
      (await call('GET', '/v1/dictionary/apis?tenant=acme', { tenant: 'globex' })).statusCode,
    ).toBe(403);
    expect(
      (await call('DELETE', '/v1/dictionary/apis/orders', { tenant: 'globex' })).statusCode,
    ).toBe(404);
    const ids = (await call('GET', '/v1/dictionary/overrides', { tenant: 'acme' }))
      .json()
      .overrides.map((o: { id: string }) => o.id);
    expect(
      (await call('GET', `/v1/dictionary/overrides/${ids[0]}`, { tenant: 'globex' })).statusCode,
    ).toBe(404);
    expect(
      (await call('DELETE', `/v1/dictionary/overrides/${ids[0]}`, { tenant: 'globex' })).statusCode,
    ).toBe(404);
    // A tenant reads only its own dictionary; admin may read another's.
    expect(
      (await call('GET', '/v1/dictionary?tenant=acme', { tenant: 'globex', scopes: [] }))
        .statusCode,
    ).toBe(403);
    const admin = await call('GET', '/v1/dictionary?tenant=acme', {
      tenant: 'platform',
      scopes: ['admin'],
    });
    expect(admin.statusCode).toBe(200);
    expect(admin.json().tenant).toBe('acme');
    // A private tenant and an unknown one look the same to anonymous callers.
    expect((await call('GET', '/v1/dictionary?tenant=globex')).statusCode).toBe(401);
    expect((await call('GET', '/v1/dictionary?tenant=nobody')).statusCode).toBe(401);
    expect((await call('GET', '/v1/dictionary')).statusCode).toBe(401);
    // A bad token is 401, never a silent fallback to anonymous.
    const bad = await call('GET', '/v1/dictionary?tenant=acme', {
      headers: { authorization: 'Bearer nope' },
    });
    expect(bad.statusCode).toBe(401);
  });

  it('refuses bad input with problems that name the field', async () => {
    const noUrl = await call('PUT', '/v1/dictionary/apis/bad', {
      tenant: 'acme',
      body: { domain: 'x', versions: [{ version: 'v1' }, { version: 'v1', upstream: 'ftp://x' }] },
    });
    expect(noUrl.statusCode).toBe(400);
    expect(noUrl.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/versions/0',
      '/versions/1/version',
      '/versions/1/upstream',
    ]);
    const creds = await call('PUT', '/v1/dictionary/apis/bad', {
      tenant: 'acme',
      body: { domain: 'x', versions: [{ version: 'v1', upstream: 'https://u:p@x.example.com' }] },
    });
    expect(creds.statusCode).toBe(400);
    const unknownField = await call('PUT', '/v1/dictionary/settings/shell', {
      tenant: 'acme',
      body: { pollEvery: 3 },
    });
    expect(unknownField.statusCode).toBe(400);
    const badApp = await call('GET', '/v1/dictionary?app=../x', { tenant: 'acme', scopes: [] });
    expect(badApp.statusCode).toBe(400);
    const longTtl = await call('POST', '/v1/dictionary/overrides', {
      tenant: 'acme',
      body: {
        name: 'x',
        ttlSeconds: 10_000_000,
        patch: [{ api: 'a', version: 'v1', baseUrl: '/a' }],
      },
    });
    expect(longTtl.statusCode).toBe(400);
  });

  it('replaces and deletes an API', async () => {
    const replaced = await call('PUT', '/v1/dictionary/apis/people', {
      tenant: 'acme',
      body: { domain: 'hr', versions: [{ version: 'v2', baseUrl: '/api/people/v2' }] },
    });
    expect(replaced.statusCode).toBe(200);
    expect(
      (await call('GET', '/v1/dictionary/apis/people', { tenant: 'acme' })).json().versions[0]
        .version,
    ).toBe('v2');
    expect(
      (await call('DELETE', '/v1/dictionary/apis/people', { tenant: 'acme' })).statusCode,
    ).toBe(204);
    expect((await call('GET', '/v1/dictionary/apis/people', { tenant: 'acme' })).statusCode).toBe(
      404,
    );
  });
});

describe('conditional writes', () => {
  const v = (version: string) => ({
    domain: 'ops',
    versions: [{ version, baseUrl: `/api/pager/${version}` }],
  });
  const put = (version: string, headers: Record<string, string>) =>
    call('PUT', '/v1/dictionary/apis/pager', { tenant: 'cond', body: v(version), headers });

  it('create only with If-None-Match: *, and replace only the version read with If-Match', async () => {
    expect((await put('v1', { 'if-none-match': '*' })).statusCode).toBe(201);
    const again = await put('v1b', { 'if-none-match': '*' });
    expect(again.statusCode).toBe(412);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.json()).toMatchObject({ type: 'urn:portico:problem:precondition-failed' });

    const read = await call('GET', '/v1/dictionary/apis/pager', { tenant: 'cond' });
    const etag = read.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    // Two editors read the same version; the first write wins, the second is refused.
    const first = await put('v2', { 'if-match': etag });
    expect(first.statusCode).toBe(200);
    expect(first.headers.etag).not.toBe(etag);
    const second = await put('v3', { 'if-match': etag });
    expect(second.statusCode).toBe(412);
    expect(second.json().detail).toMatch(/pager/);
    const now = await call('GET', '/v1/dictionary/apis/pager', { tenant: 'cond' });
    expect(now.json().versions[0].version).toBe('v2');
    expect(now.headers.etag).toBe(first.headers.etag);

    // A weak tag never matches If-Match; a stale one does not delete either.
    expect((await put('v4', { 'if-match': `W/${now.headers.etag as string}` })).statusCode).toBe(
      412,
    );
    const stale = await call('DELETE', '/v1/dictionary/apis/pager', {
      tenant: 'cond',
      headers: { 'if-match': etag },
    });
    expect(stale.statusCode).toBe(412);
    const deleted = await call('DELETE', '/v1/dictionary/apis/pager', {
      tenant: 'cond',
      headers: { 'if-match': now.headers.etag as string },
    });
    expect(deleted.statusCode).toBe(204);
    // Nothing to match any more.
    expect((await put('v5', { 'if-match': '*' })).statusCode).toBe(412);
    expect((await call('GET', '/v1/dictionary/apis/pager', { tenant: 'cond' })).statusCode).toBe(
      404,
    );
  });
});

describe('ugly input', () => {
  it('refuses a leap second, which no JavaScript Date holds, in an API and in an override', async () => {
    // `23:59:60` passes the date-time format; stored, every read of the dictionary was a 500.
    const api = await call('PUT', '/v1/dictionary/apis/leap', {
      tenant: 'leap',
      body: {
        domain: 'd',
        versions: [{ version: 'v1', baseUrl: '/leap', deprecatedAt: '2016-12-31T23:59:60Z' }],
      },
    });
    expect(api.statusCode).toBe(400);
    expect(api.json().errors).toEqual([
      { pointer: '/versions/0/deprecatedAt', detail: expect.stringMatching(/leap second/) },
    ]);
    const override = await call('POST', '/v1/dictionary/overrides', {
      tenant: 'leap',
      body: {
        name: 'leap',
        patch: [{ api: 'leap', version: 'v2', sunsetAt: '2016-12-31T23:59:60Z' }],
      },
    });
    expect(override.statusCode).toBe(400);
    expect(override.json().errors[0].pointer).toBe('/patch/0/sunsetAt');
    expect((await call('GET', '/v1/dictionary', { tenant: 'leap', scopes: [] })).statusCode).toBe(
      200,
    );
  });

  it('serves a dictionary stored before leap seconds were refused, without that date', async () => {
    await new DictionaryStore(t.hub.db).putApi('leap-stored', {
      name: 'old',
      domain: 'd',
      description: '',
      versions: [
        {
          version: 'v1',
          baseUrl: '/old',
          status: 'deprecated',
          deprecatedAt: '2016-12-31T23:59:60Z',
          sunsetAt: '2099-01-01T00:00:00Z',
        },
      ],
    });
    const res = await call('GET', '/v1/dictionary', { tenant: 'leap-stored', scopes: [] });
    expect(res.statusCode).toBe(200);
    expect(res.json().domains[0].apis[0].versions[0]).toEqual({
      version: 'v1',
      baseUrl: '/old',
      status: 'deprecated',
      sunset: '2099-01-01T00:00:00.000Z',
    });
  });

  it('refuses a non-finite number instead of storing the string "Infinity"', async () => {
    // Bodies were once coerced, and 1e999 (Infinity) became "Infinity" where a string is
    // allowed: now no branch of the switch's type takes it.
    const res = await t.hub.server.inject({
      method: 'PUT',
      url: '/v1/dictionary/settings/*',
      headers: { ...(await t.auth('inf', WRITER)), 'content-type': 'application/json' },
      payload: '{"features":{"ratio":1e999}}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const errors = res.json().errors as { pointer: string }[];
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.pointer === '/features/ratio')).toBe(true);
    expect((await call('GET', '/v1/dictionary/settings/*', { tenant: 'inf' })).statusCode).toBe(
      404,
    );
  });

  it('refuses rates and windows the gateway cannot turn into finite header values', async () => {
    // A denormal refill rate passed `> 0`, and the gateway then divided by it: `w=Infinity`
    // in RateLimit-Policy and `Retry-After: Infinity`.
    const put = (policy: unknown) =>
      call('PUT', '/v1/dictionary/apis/limits', {
        tenant: 'limits',
        body: { domain: 'd', versions: [{ version: 'v1', baseUrl: '/limits', policy }] },
      });
    const at = '/versions/0/policy';
    for (const [policy, pointer] of [
      [
        { rateLimit: { tenant: { burst: 5, perSecond: 1e-320 } } },
        `${at}/rateLimit/tenant/perSecond`,
      ],
      [{ rateLimit: { app: { burst: 5, perSecond: 0.0009 } } }, `${at}/rateLimit/app/perSecond`],
      [{ rateLimit: { client: { burst: 5, perSecond: 2e6 } } }, `${at}/rateLimit/client/perSecond`],
      [
        { circuitBreaker: { failures: 1, openSeconds: 1e-320 } },
        `${at}/circuitBreaker/openSeconds`,
      ],
    ] as const) {
      const res = await put(policy);
      expect(res.statusCode, JSON.stringify(policy)).toBe(400);
      expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    expect((await call('GET', '/v1/dictionary/apis/limits', { tenant: 'limits' })).statusCode).toBe(
      404,
    );

    // The extremes still accepted keep the gateway's numbers finite.
    const slowest = { burst: 1_000_000, perSecond: 0.001 };
    const ok = await put({
      rateLimit: { tenant: slowest },
      circuitBreaker: { failures: 1, openSeconds: 0.001 },
    });
    expect(ok.statusCode).toBe(201);
    expect(rateLimitPlan({ rateLimit: { tenant: slowest } }, 'r')?.policyHeader).toBe(
      '"tenant";q=1000000;w=1000000000',
    );
  });

  it('refuses a ?tenant= that no token can name, instead of creating that tenant', async () => {
    // An admin's write to `?tenant=%20acme` or `a%0Ab` created a tenant nobody could read.
    for (const tenant of ['%20acme', 'a%0Ab', '..%2F..', '%F0%9F%92%A9', 'x'.repeat(129)]) {
      const write = await call('PUT', `/v1/dictionary/apis/orders?tenant=${tenant}`, {
        tenant: 'platform',
        scopes: ['admin'],
        body: people,
      });
      expect(write.statusCode, tenant).toBe(400);
      expect(write.json().errors[0]).toMatchObject({ pointer: '/tenant', in: 'query' });
      const read = await call('GET', `/v1/dictionary?tenant=${tenant}`);
      expect(read.statusCode, tenant).toBe(400);
      expect(read.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('refuses a base URL starting with "/\\", which browsers read as another host', async () => {
    const res = await call('PUT', '/v1/dictionary/apis/slash', {
      tenant: 'slash',
      body: { domain: 'd', versions: [{ version: 'v1', baseUrl: '/\\evil.example/api' }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].pointer).toBe('/versions/0/baseUrl');
  });
});

describe('URLs a browser or a header would read otherwise', () => {
  const put = (name: string, version: Record<string, unknown>) =>
    call('PUT', `/v1/dictionary/apis/${name}`, {
      tenant: 'urls',
      body: { domain: 'd', versions: [{ version: 'v1', ...version }] },
    });

  it('refuses base URLs that a browser follows to another host', async () => {
    // Browsers drop tabs and line breaks in URLs: `/\t/evil.example` is `//evil.example`.
    // And `https:evil.example` parses, but on an https: page it is a relative path.
    for (const baseUrl of [
      '/\t/evil.example/api',
      '/\n/evil.example/api',
      '/ok path',
      'https:evil.example',
      'https:/evil.example',
    ]) {
      const res = await put('browser', { baseUrl });
      expect(res.statusCode, baseUrl).toBe(400);
      expect(res.json().errors[0].pointer).toBe('/versions/0/baseUrl');
      const override = await call('POST', '/v1/dictionary/overrides', {
        tenant: 'urls',
        body: { name: 'o', patch: [{ api: 'browser', version: 'v1', baseUrl }] },
      });
      expect(override.statusCode, baseUrl).toBe(400);
      expect(override.json().errors[0].pointer).toBe('/patch/0/baseUrl');
    }
    expect((await put('browser', { baseUrl: 'HTTPS://[::1]:8443/a%20b' })).statusCode).toBe(201);
  });

  it('refuses links that are no http(s) URI, which the gateway sends as a Link header', async () => {
    // Stored, a non-ASCII or CR LF link made every proxied response of the version a 500
    // (Node refuses the header), a `>` added relations, and `javascript:` reached browsers.
    for (const link of [
      'https://docs.example/移行',
      'https://docs.example/a\r\nx-evil: 1',
      'https://docs.example/a>; rel="x", <https://evil.example',
      'javascript:alert(1)',
    ]) {
      const res = await put('links', { baseUrl: '/links', status: 'deprecated', link });
      expect(res.statusCode, link).toBe(400);
      expect(res.json().errors[0].pointer).toBe('/versions/0/link');
    }
    const ok = await put('links', {
      baseUrl: '/links',
      status: 'deprecated',
      link: 'https://docs.example/%E7%A7%BB%E8%A1%8C',
    });
    expect(ok.statusCode).toBe(201);
    expect((await put('links', { baseUrl: '/links', link: '' })).statusCode).toBe(200);
  });

  it('leaves out a link stored before links were checked, in the dictionary and the header', async () => {
    const version = {
      version: 'v1',
      baseUrl: '/old',
      status: 'deprecated' as const,
      link: 'https://docs.example/a\r\nx-evil: 1',
    };
    await new DictionaryStore(t.hub.db).putApi('links-stored', {
      name: 'old',
      domain: 'd',
      description: '',
      versions: [version],
    });
    const res = await call('GET', '/v1/dictionary', { tenant: 'links-stored', scopes: [] });
    expect(res.statusCode).toBe(200);
    expect(res.json().domains[0].apis[0].versions[0]).toEqual({
      version: 'v1',
      baseUrl: '/old',
      status: 'deprecated',
    });
    expect(lifecycleHeaders(version)).toEqual({ deprecation: '@0' });
  });
});

describe('override lifetimes', () => {
  it('refuses a configured maximum lifetime no date can end', () => {
    // A set stored with it made every listing of the tenant's sets a 500.
    expect(() =>
      loadConfig({
        env: {},
        cwd: mkdtempSync(join(tmpdir(), 'portico-dictionary-config-')),
        overrides: { dictionary: { overrideMaxTtlSeconds: 1e13 } },
      }),
    ).toThrow(ConfigError);
  });
});

describe('per-tenant caps and a short override lifetime', () => {
  let capped: TestHub;
  beforeAll(async () => {
    capped = await startTestHub({
      dictionary: { maxApisPerTenant: 3, maxOverridesPerTenant: 3, overrideMaxTtlSeconds: 600 },
    });
  });
  afterAll(() => capped.close());

  it('defaults an override lifetime to the configured maximum when that is under an hour', async () => {
    // The default, an hour, was above the maximum: a request without ttlSeconds was a 400.
    const res = await capped.hub.server.inject({
      method: 'POST',
      url: '/v1/dictionary/overrides',
      headers: { ...(await capped.auth('short', WRITER)), 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'o', patch: [{ api: 'a', version: 'v1', baseUrl: '/a' }] }),
    });
    expect(res.statusCode).toBe(201);
    const { createdAt, expiresAt } = res.json();
    expect(Date.parse(expiresAt) - Date.parse(createdAt)).toBe(600_000);
  });

  it('hold under concurrent creations of APIs and override sets', async () => {
    // The count was read before the write: 20 concurrent creations all passed a cap of 3.
    const headers = {
      ...(await capped.auth('caps', WRITER)),
      'content-type': 'application/json',
    };
    const create = (method: 'PUT' | 'POST', url: string, body: unknown) =>
      capped.hub.server.inject({ method, url, headers, payload: JSON.stringify(body) });
    const apis = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        create('PUT', `/v1/dictionary/apis/api-${i}`, {
          domain: 'd',
          versions: [{ version: 'v1', baseUrl: '/a' }],
        }),
      ),
    );
    expect(apis.filter((r) => r.statusCode === 201)).toHaveLength(3);
    expect(apis.filter((r) => r.statusCode === 409)).toHaveLength(17);
    expect(apis.find((r) => r.statusCode === 409)!.json().detail).toBe(
      'the limit of 3 APIs is reached',
    );
    const stored = await capped.hub.server.inject({ url: '/v1/dictionary/apis', headers });
    expect(stored.json().apis).toHaveLength(3);
    // Replacing an existing API is not creating one.
    const replaced = apis.findIndex((r) => r.statusCode === 201);
    expect(
      (
        await create('PUT', `/v1/dictionary/apis/api-${replaced}`, {
          domain: 'd',
          versions: [{ version: 'v2', baseUrl: '/b' }],
        })
      ).statusCode,
    ).toBe(200);

    const sets = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        create('POST', '/v1/dictionary/overrides', {
          name: `set-${i}`,
          patch: [{ api: 'a', version: 'v1', baseUrl: '/a' }],
        }),
      ),
    );
    expect(sets.filter((r) => r.statusCode === 201)).toHaveLength(3);
    expect(sets.filter((r) => r.statusCode === 409)).toHaveLength(17);
    expect(await new DictionaryStore(capped.hub.db).countOverrides('caps')).toBe(3);
  });
});

describe('anonymous reads and the per-node cache', () => {
  // Nodes built here rather than through startTestHub: the test reads the cache's size
  // (portico_dictionary_cached_tenants) and counts the store's statements.
  const dir = mkdtempSync(join(tmpdir(), 'portico-dictionary-nodes-'));
  let db: SqlDatabase;
  const servers: HubServer[] = [];
  beforeAll(() => {
    db = openSqliteDatabase(join(dir, 'state.db'));
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    for (const server of servers) await server.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // `Bearer w.<tenant>` is a dictionary writer of that tenant; anything else does not verify.
  const authenticator: Authenticator = {
    authenticate(token) {
      if (!token.startsWith('w.')) return Promise.reject(new AuthenticationError('bad token'));
      return Promise.resolve({
        tenant: token.slice(2),
        subject: 'test',
        scopes: new Set(['dictionary:write']),
        expiresAt: Math.floor(Date.now() / 1000) + 600,
      });
    },
  };

  /** One hub node's dictionary on the shared store. */
  async function node(recheckMs: number) {
    const server = await createHttpServer({
      authenticator,
      logLevel: 'silent',
      bodyLimit: 1 << 20,
      version: 'test',
    });
    servers.push(server);
    const metrics = new Registry();
    await createDictionary({
      db,
      server,
      authenticator,
      recheckMs,
      metrics,
      config: {
        maxAgeSeconds: 30,
        overrideMaxTtlSeconds: 3600,
        maxOverridesPerTenant: 10,
        maxApisPerTenant: 10,
      },
    });
    const read = (tenant: string) =>
      server.inject({ url: `/v1/dictionary?tenant=${encodeURIComponent(tenant)}` });
    const write = (tenant: string, url: string, body: unknown) =>
      server.inject({
        method: 'PUT',
        url,
        headers: { authorization: `Bearer w.${tenant}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const cachedTenants = async () =>
      (await metrics.getSingleMetric('portico_dictionary_cached_tenants')!.get()).values[0]!.value;
    return { read, write, cachedTenants };
  }

  it('answers anonymous reads of unknown and private tenants without loading or caching them', async () => {
    const a = await node(60_000); // no revision check during the test: no timing involved
    expect((await a.write('shop', '/v1/dictionary/apis/people', people)).statusCode).toBe(201);
    await a.write('shop', '/v1/dictionary/access', { anonymous: true });
    await a.write('vault', '/v1/dictionary/apis/people', people);
    expect((await a.read('shop')).statusCode).toBe(200);
    expect(await a.cachedTenants()).toBe(1);

    const transactions = vi.spyOn(db, 'transaction');
    const unknown = await Promise.all(
      Array.from({ length: 200 }, () => a.read(`ghost-${randomUUID()}`)),
    );
    expect(unknown.every((r) => r.statusCode === 401)).toBe(true);
    const vault = await a.read('vault');
    // Private and unknown look the same (nothing to enumerate).
    expect(vault.statusCode).toBe(401);
    expect(vault.json().detail).toBe(
      unknown[0]!.json().detail.replace(/ghost-[0-9a-f-]+/, 'vault'),
    );
    // Each used to load a whole dictionary (a transaction) into a cache entry of its own:
    // 10 000 of them pushed every real tenant out.
    expect(transactions).not.toHaveBeenCalled();
    expect(await a.cachedTenants()).toBe(1);

    // The public tenant is still served from the cache: not a single statement.
    const queries = vi.spyOn(db, 'query');
    const shop = await a.read('shop');
    expect(shop.statusCode).toBe(200);
    expect(shop.json().domains[0].apis[0].name).toBe('people');
    expect(queries).not.toHaveBeenCalled();
    expect(transactions).not.toHaveBeenCalled();
  });

  it("honours another node's switch to public and back at its next revision check", async () => {
    // recheckMs 0: every read checks, so "as soon as the next check" needs no waiting.
    const a = await node(0);
    const b = await node(0);
    await b.write('flip', '/v1/dictionary/apis/people', people);
    expect((await a.read('flip')).statusCode).toBe(401);
    await b.write('flip', '/v1/dictionary/access', { anonymous: true });
    const opened = await a.read('flip');
    expect(opened.statusCode).toBe(200);
    expect(opened.json().tenant).toBe('flip');
    // Now cached on a: the copy's revision check sees the switch back.
    await b.write('flip', '/v1/dictionary/access', { anonymous: false });
    expect((await a.read('flip')).statusCode).toBe(401);
    await b.write('flip', '/v1/dictionary/access', { anonymous: true });
    expect((await a.read('flip')).statusCode).toBe(200);
  });
});
