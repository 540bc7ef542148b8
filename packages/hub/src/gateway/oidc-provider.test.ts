/**
 * The API edge against a real OIDC provider (`oidc-provider` 8.x) started in the test:
 * client-credentials grants with JWT access tokens bound to a resource indicator, used on
 * the gateway and the dictionary; a key rotation mid-test (the next key published first,
 * then signing with it); and the JWT attack list, every forgery refused with a 401 problem.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createUpstream } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

const RESOURCE = 'https://api.portico.test';
const OTHER_RESOURCE = 'https://other.example.test';

async function signingKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

function provider(issuer: string, keys: JWK[]): Provider {
  return new Provider(issuer, {
    clients: [
      {
        client_id: 'checkout-app',
        client_secret: 'checkout-secret-checkout-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        id_token_signed_response_alg: 'ES256',
        scope: 'events:read dictionary:write',
      },
      {
        client_id: 'short-lived-app',
        client_secret: 'short-secret-short-secret-short',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        id_token_signed_response_alg: 'ES256',
        scope: 'events:read',
      },
      {
        client_id: 'other-tenant-app',
        client_secret: 'other-secret-other-secret-other',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        id_token_signed_response_alg: 'ES256',
        scope: 'events:read',
      },
    ],
    jwks: { keys: keys as never },
    cookies: { keys: ['a test cookie key, not a secret'] },
    scopes: ['openid', 'events:read', 'dictionary:write'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => ({
          scope: 'events:read dictionary:write',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: client.clientId === 'short-lived-app' ? 2 : 300,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    // The tenant claim Portico reads (auth.tenantClaim), per client.
    extraTokenClaims: (_ctx, token) => ({
      tenant: (token as { clientId?: string }).clientId === 'checkout-app' ? 'acme' : 'globex',
    }),
  });
}

let server: Server;
let issuer: string;
let listener: RequestListener;
let t: TestHub;
let upstream: Server;
const keys: JWK[] = [];

function serveProvider(p: Provider) {
  if (listener) server.off('request', listener);
  listener = p.callback();
  server.on('request', listener);
}

async function clientToken(
  clientId: string,
  secret: string,
  options: { scope?: string; resource?: string } = {},
): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: options.scope ?? 'events:read dictionary:write',
      resource: options.resource ?? RESOURCE,
    }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`token request failed: ${JSON.stringify(body)}`);
  return body.access_token;
}
const checkoutToken = (options?: { scope?: string; resource?: string }) =>
  clientToken('checkout-app', 'checkout-secret-checkout-secret', options);

const header = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
const payload = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  keys.push(await signingKey('key-1'), await signingKey('key-2'));
  // key-2 is published from the start, so rotating to it needs no refetch by the hub.
  serveProvider(provider(issuer, [keys[0]!, keys[1]!]));

  upstream = createUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        tenant: req.headers['x-portico-tenant'],
        subject: req.headers['x-portico-subject'],
      }),
    );
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));

  t = await startTestHub({
    auth: {
      mode: 'oidc',
      issuer,
      audience: RESOURCE,
      requireAccessTokenType: true,
      clockToleranceSeconds: 0,
    },
    gateway: { upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] } },
  });
  const admin = await checkoutToken();
  const put = await t.hub.server.inject({
    method: 'PUT',
    url: '/v1/dictionary/apis/orders',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    payload: JSON.stringify({
      domain: 'commerce',
      versions: [
        {
          version: 'v1',
          upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
          policy: { scopes: ['events:read'] },
        },
      ],
    }),
  });
  expect(put.statusCode, put.body).toBe(201);
});
afterAll(async () => {
  await t.close();
  for (const s of [server, upstream]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const gateway = (token: string) =>
  t.hub.server.inject({
    method: 'GET',
    url: '/api/orders/v1/orders/1',
    headers: { authorization: `Bearer ${token}` },
  });

describe('the API edge with a real OIDC provider', () => {
  it('accepts client-credentials JWT access tokens for the resource', async () => {
    const token = await checkoutToken();
    expect(header(token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: 'key-1' });
    expect(payload(token)).toMatchObject({
      aud: RESOURCE,
      client_id: 'checkout-app',
      tenant: 'acme',
    });
    const res = await gateway(token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ tenant: 'acme', subject: 'checkout-app' });
    const dictionary = await t.hub.server.inject({
      method: 'GET',
      url: '/v1/dictionary',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(dictionary.statusCode).toBe(200);
    expect(dictionary.json().tenant).toBe('acme');
  });

  it('keeps tenants and scopes from the token', async () => {
    const other = await clientToken('other-tenant-app', 'other-secret-other-secret-other', {
      scope: 'events:read',
    });
    expect((await gateway(other)).statusCode).toBe(404); // acme's API is not globex's
    const noScope = await checkoutToken({ scope: 'dictionary:write' });
    expect((await gateway(noScope)).statusCode).toBe(403);
  });

  it('refuses a token issued for another resource', async () => {
    const elsewhere = await checkoutToken({ resource: OTHER_RESOURCE });
    expect(payload(elsewhere).aud).toBe(OTHER_RESOURCE);
    expect((await gateway(elsewhere)).statusCode).toBe(401);
  });

  it('follows a key rotation: new tokens on the next key, earlier ones still valid', async () => {
    const before = await checkoutToken();
    serveProvider(provider(issuer, [keys[1]!, keys[0]!]));
    const after = await checkoutToken();
    expect(header(after).kid).toBe('key-2');
    expect((await gateway(after)).statusCode).toBe(200);
    expect((await gateway(before)).statusCode).toBe(200);
  });

  it('refuses a token once it has expired, however recently verified', async () => {
    const short = await clientToken('short-lived-app', 'short-secret-short-secret-short', {
      scope: 'events:read',
    });
    const exp = Number(payload(short).exp);
    expect(exp - Number(payload(short).iat)).toBe(2);
    // Valid for more than a second yet (exp is whole seconds, iat rounded down).
    expect((await gateway(short)).statusCode).toBe(404); // verified: tenant globex has no orders API
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    expect((await gateway(short)).statusCode).toBe(401);
  });

  it('refuses the JWT attack list with 401 problems', async () => {
    const good = await checkoutToken();
    const [h, p, s] = good.split('.') as [string, string, string];
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = payload(good);
    const attacker = await signingKey(header(good).kid as string); // same kid, other key
    const { privateKey: attackerKey } = await generateKeyPair('ES256');
    const attacks: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'at+jwt' })}.${p}.`,
      'alg none, signature kept': `${b64({ alg: 'none', typ: 'at+jwt' })}.${p}.${s}`,
      'HS256 keyed with the public key': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: header(good).kid as string })
        .sign(
          new TextEncoder().encode(
            JSON.stringify({ kty: attacker.kty, crv: attacker.crv, x: attacker.x, y: attacker.y }),
          ),
        ),
      'tenant changed, signature kept': `${h}.${b64({ ...claims, tenant: 'globex' })}.${s}`,
      'scope widened, signature kept': `${h}.${b64({ ...claims, scope: 'admin' })}.${s}`,
      'signed by another key with the same kid': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: header(good).kid as string })
        .sign(attackerKey),
      'embedded jwk': await new SignJWT(claims)
        .setProtectedHeader({
          alg: 'ES256',
          typ: 'at+jwt',
          jwk: { kty: attacker.kty!, crv: attacker.crv!, x: attacker.x!, y: attacker.y! },
        })
        .sign(attackerKey),
      'jku to an attacker': await new SignJWT(claims)
        .setProtectedHeader({
          alg: 'ES256',
          typ: 'at+jwt',
          jku: 'http://127.0.0.1:1/jwks',
          kid: 'evil',
        })
        .sign(attackerKey),
      'kid path traversal': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: '../../../../dev/null' })
        .sign(attackerKey),
      'not a JWT': 'not.a.jwt',
      'signature stripped': `${h}.${p}.`,
      'typ not at+jwt': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'x' })
        .sign(attackerKey),
    };
    for (const [name, token] of Object.entries(attacks)) {
      const res = await gateway(token);
      expect(res.statusCode, name).toBe(401);
      expect(res.headers['content-type'], name).toContain('application/problem+json');
    }
    // And the untouched token still works (nothing above poisoned a cache).
    expect((await gateway(good)).statusCode).toBe(200);
  });
});
