import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestIdentityProvider,
  type TestIdentityProvider,
} from '../auth/test-identity-provider.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

// The hub in production auth mode, against a real discovery document and JWKS on loopback.
let idp: TestIdentityProvider;
let t: TestHub;
beforeAll(async () => {
  idp = await startTestIdentityProvider({ audience: 'urn:portico' });
  t = await startTestHub({ auth: { mode: 'oidc', issuer: idp.issuer, audience: 'urn:portico' } });
});
afterAll(async () => {
  await t.close();
  await idp.close();
});

const event = JSON.stringify({ specversion: '1.0', id: 'o-1', source: '/oidc', type: 'a.b.c' });
const publish = (token: string) =>
  t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' },
    payload: event,
  });

describe('OIDC auth mode', () => {
  it('has no development issuer', () => {
    expect(t.hub.devIssuer).toBeUndefined();
  });

  it('accepts a token from the issuer and stamps its tenant', async () => {
    const res = await publish(
      await idp.sign({ tenant: 'oidc-co', scope: 'events:publish events:read' }),
    );
    expect(res.statusCode).toBe(202);
    expect((await t.hub.log.getById('oidc-co', 'o-1'))?.event.tenantid).toBe('oidc-co');
  });

  // Key rotation (refresh on unknown kid, with its cooldown) is pinned in auth/oidc-authenticator.test.ts.

  it.each([
    [
      'expired',
      { tenant: 'x', scope: 'events:publish', exp: Math.floor(Date.now() / 1000) - 3600 },
      {},
    ],
    ['wrong issuer', { tenant: 'x', scope: 'events:publish', iss: 'http://evil.example' }, {}],
    ['wrong audience', { tenant: 'x', scope: 'events:publish' }, { audience: 'urn:other' }],
    ['without a tenant', { scope: 'events:publish' }, { omit: ['tenant'] }],
  ])('refuses a token that is %s with 401', async (_name, claims, options) => {
    const res = await publish(await idp.sign(claims, options));
    expect(res.statusCode).toBe(401);
    expect(res.json().type).toBe('urn:portico:problem:unauthorized');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('refuses a valid token without the scope with 403', async () => {
    const res = await publish(await idp.sign({ tenant: 'x', scope: 'events:read' }));
    expect(res.statusCode).toBe(403);
  });
});
