/**
 * CORS on the hub's own API (`http.cors`): preflights answered or refused with a reason,
 * headers on real answers (401s and the hijacked SSE stream included), the route's own
 * Vary kept, unknown and absent origins left without CORS headers, the gateway's routes
 * left to the gateway, nothing at all by default, and the config keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

const PORTAL = 'http://portal.test:3000';
const STRANGER = 'http://evil.test';

let t: TestHub;
let base: string;

beforeAll(async () => {
  t = await startTestHub({ http: { cors: { origins: [PORTAL, 'https://staff.test'] } } });
  base = await t.hub.server.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
});

const preflight = (url: string, origin: string, method: string, headers?: string) =>
  t.hub.server.inject({
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': method,
      ...(headers ? { 'access-control-request-headers': headers } : {}),
    },
  });

describe('preflight', () => {
  it('is answered 204 for an allowed origin, method and headers', async () => {
    const res = await preflight(
      '/v1/stream/tickets',
      PORTAL,
      'POST',
      'authorization,content-type,x-portico-override',
    );
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    const allowed = String(res.headers['access-control-allow-headers']).split(', ');
    expect(allowed).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'x-portico-override']),
    );
    expect(allowed).toEqual(expect.arrayContaining(['last-event-id', 'if-none-match']));
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers.vary).toMatch(/\borigin\b/);
  });

  it('names the ce-* headers a binary CloudEvent asks for (a pattern means nothing to a browser)', async () => {
    const res = await preflight('/v1/events', PORTAL, 'POST', 'CE-Type, ce-id,ce-source');
    expect(res.statusCode).toBe(204);
    const allowed = String(res.headers['access-control-allow-headers']).split(', ');
    expect(allowed).toEqual(expect.arrayContaining(['ce-type', 'ce-id', 'ce-source']));
    expect(allowed).not.toContain('ce-*');
  });

  it('refuses a header outside the list with a 403 problem naming it, and no CORS headers', async () => {
    const res = await preflight('/v1/dictionary', PORTAL, 'GET', 'authorization, x-evil, cookie');
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().detail).toMatch(/x-evil, cookie are not allowed cross-origin/);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a method outside the list', async () => {
    const res = await preflight('/v1/dictionary', PORTAL, 'PROPFIND');
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toMatch(/PROPFIND is not allowed/);
  });

  it('refuses an unknown origin (and "null", a sandboxed frame) with a 403 and no CORS headers', async () => {
    for (const origin of [STRANGER, 'null', `${PORTAL}/`, 'http://portal.test:3001']) {
      const res = await preflight('/v1/dictionary', origin, 'GET', 'authorization');
      expect(res.statusCode).toBe(403);
      expect(res.json().detail).toContain('http.cors.origins');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('leaves the gateway routes to the gateway (its own gateway.cors, empty here)', async () => {
    const res = await preflight('/api/billing/v1/invoices', PORTAL, 'GET');
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toMatch(/gateway/);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an OPTIONS without Access-Control-Request-Method is no preflight', async () => {
    const res = await t.hub.server.inject({
      method: 'OPTIONS',
      url: '/v1/dictionary',
      headers: { origin: PORTAL },
    });
    expect(res.statusCode).toBe(404);
  });
});

describe('actual requests', () => {
  it('carry the origin, the exposed headers and Vary: Origin added to the route’s own Vary', async () => {
    const res = await t.hub.server.inject({
      method: 'GET',
      url: '/v1/dictionary',
      headers: { origin: PORTAL, ...(await t.auth('acme', ['events:read'])) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(PORTAL);
    const exposed = String(res.headers['access-control-expose-headers']).split(', ');
    expect(exposed).toEqual(
      expect.arrayContaining(['etag', 'x-portico-override-status', 'deprecation', 'sunset']),
    );
    const vary = String(res.headers.vary).split(/,\s*/);
    expect(vary).toEqual(expect.arrayContaining(['authorization', 'x-portico-override', 'origin']));
  });

  it('a 401 carries them too, so the page can read the problem', async () => {
    const res = await t.hub.server.inject({
      method: 'GET',
      url: '/v1/catalog/contracts',
      headers: { origin: 'https://staff.test' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe('https://staff.test');
  });

  it('an unknown origin or none gets no CORS headers, but Vary: Origin (the answer depends on it)', async () => {
    for (const headers of [{ origin: STRANGER }, {}]) {
      const res = await t.hub.server.inject({ method: 'GET', url: '/healthz', headers });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-expose-headers']).toBeUndefined();
      expect(res.headers.vary).toBe('origin');
    }
  });

  it('the SSE stream (a hijacked reply) carries them', async () => {
    const abort = new AbortController();
    const res = await fetch(`${base}/v1/stream?topic=incident.>`, {
      headers: { origin: PORTAL, ...(await t.auth('acme', ['events:read'])) },
      signal: abort.signal,
    });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(res.headers.get('access-control-allow-origin')).toBe(PORTAL);
      expect(res.headers.get('vary')).toMatch(/origin/);
    } finally {
      abort.abort();
    }
  });
});

describe('off by default', () => {
  it('sends no CORS headers and answers no preflight', async () => {
    const plain = await startTestHub();
    try {
      const res = await plain.hub.server.inject({
        method: 'GET',
        url: '/healthz',
        headers: { origin: PORTAL },
      });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers.vary).toBeUndefined();
      const pre = await plain.hub.server.inject({
        method: 'OPTIONS',
        url: '/v1/dictionary',
        headers: { origin: PORTAL, 'access-control-request-method': 'GET' },
      });
      expect(pre.statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('config', () => {
  it('takes PORTICO_CORS_ORIGINS as a comma- or space-separated list', () => {
    const config = loadConfig({
      env: { PORTICO_CORS_ORIGINS: 'https://a.test, http://127.0.0.1:5173  https://b.test' },
      cwd: '/nonexistent',
    });
    expect(config.http.cors).toEqual({
      origins: ['https://a.test', 'http://127.0.0.1:5173', 'https://b.test'],
      credentials: false,
      maxAgeSeconds: 600,
    });
  });

  it('refuses a wildcard, a path or a trailing slash, naming the key', () => {
    for (const origin of ['*', 'https://a.test/', 'https://a.test/portal', 'a.test']) {
      expect(() =>
        loadConfig({
          env: {},
          cwd: '/nonexistent',
          overrides: { http: { cors: { origins: [origin] } } },
        }),
      ).toThrow(ConfigError);
      expect(() =>
        loadConfig({
          env: {},
          cwd: '/nonexistent',
          overrides: { http: { cors: { origins: [origin] } } },
        }),
      ).toThrow(/http\.cors\.origins\.0/);
    }
  });

  it('with credentials, echoes the origin and says so', async () => {
    const creds = await startTestHub({ http: { cors: { origins: [PORTAL], credentials: true } } });
    try {
      const res = await creds.hub.server.inject({
        method: 'GET',
        url: '/healthz',
        headers: { origin: PORTAL },
      });
      expect(res.headers['access-control-allow-origin']).toBe(PORTAL);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
    } finally {
      await creds.close();
    }
  });
});
