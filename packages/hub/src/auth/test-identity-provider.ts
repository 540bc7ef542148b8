/**
 * A real, minimal OpenID provider for tests: a node:http server on 127.0.0.1 (random port)
 * serving a discovery document and a JWKS, with keys that can be rotated and request counters.
 * Test support only (no `.test.ts` suffix so that other capabilities' tests can import it).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export type TestSigningKey = {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
};

export type TestIdentityProvider = {
  /** `http://127.0.0.1:<port>`, also the discovery document's `issuer`. */
  readonly issuer: string;
  /** Requests served so far, by document. */
  readonly requests: { discovery: number; jwks: number };
  /** The key `sign` uses by default (the newest one). */
  readonly currentKey: TestSigningKey;
  /** Answer the next `count` discovery requests with HTTP 500. */
  failDiscovery(count: number): void;
  /**
   * Publish a new key (`key`, or a fresh one of `alg`) and make it current; the JWKS then holds
   * only the new key, unless keepOld.
   */
  rotate(options?: {
    key?: TestSigningKey;
    alg?: string;
    keepOld?: boolean;
  }): Promise<TestSigningKey>;
  /** Signs a token with the current key (or `key`); claims default to a valid access token. */
  sign(claims?: JWTPayload, options?: SignOptions): Promise<string>;
  close(): Promise<void>;
};

export type SignOptions = {
  key?: TestSigningKey;
  /** Header fields to set or override (e.g. `kid`, `typ`). */
  header?: Record<string, unknown>;
  /** Leave these claims out of the defaults (e.g. `['exp']`). */
  omit?: string[];
  audience?: string;
};

export async function generateTestSigningKey(alg = 'RS256'): Promise<TestSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `test-${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

/** RSA key generation takes ~0.4 s on a small machine: pass `key` to reuse one across servers. */
export async function startTestIdentityProvider(
  options: { audience?: string; key?: TestSigningKey } = {},
): Promise<TestIdentityProvider> {
  const audience = options.audience ?? 'urn:portico:hub';
  let current = options.key ?? (await generateTestSigningKey());
  let published: JWK[] = [current.publicJwk];
  let discoveryFailures = 0;
  const requests = { discovery: 0, jwks: 0 };
  let issuer = '';

  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/.well-known/openid-configuration') {
      requests.discovery += 1;
      if (discoveryFailures > 0) {
        discoveryFailures -= 1;
        response.writeHead(500).end();
        return;
      }
      sendJson(response, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    } else if (path === '/jwks') {
      requests.jwks += 1;
      sendJson(response, { keys: published });
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    requests,
    get currentKey() {
      return current;
    },
    failDiscovery(count) {
      discoveryFailures = count;
    },
    async rotate(rotation = {}) {
      current = rotation.key ?? (await generateTestSigningKey(rotation.alg ?? current.alg));
      published = rotation.keepOld ? [...published, current.publicJwk] : [current.publicJwk];
      return current;
    },
    async sign(claims = {}, signOptions = {}) {
      const key = signOptions.key ?? current;
      const now = Math.floor(Date.now() / 1000);
      const defaults: JWTPayload = {
        iss: issuer,
        aud: signOptions.audience ?? audience,
        sub: 'user-1',
        tenant: 'acme',
        scope: 'events:read',
        iat: now,
        exp: now + 300,
      };
      for (const name of signOptions.omit ?? []) delete defaults[name];
      return new SignJWT({ ...defaults, ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...signOptions.header })
        .sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function sendJson(response: ServerResponse, body: unknown) {
  const text = JSON.stringify(body);
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
