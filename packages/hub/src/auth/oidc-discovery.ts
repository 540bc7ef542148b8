import { fetchMetadata } from './fetch-metadata.ts';

export type OidcDiscoveryOptions = {
  issuer: string;
  fetch: typeof fetch;
  timeoutMs: number;
  /** After a failed fetch, callers get the failure again without a request for this long. */
  retryAfterMs: number;
  /** Permit plain http to a non-loopback identity provider (e.g. inside a compose network). */
  allowInsecureHttp: boolean;
  now: () => number;
};

export type OidcDiscovery = {
  /** The issuer's `jwks_uri`, fetched on first use and cached; failures are retried later. */
  jwksUri(): Promise<URL>;
};

/** The URL of the discovery document (OpenID Connect Discovery 1.0 §4). */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
}

export function createOidcDiscovery(options: OidcDiscoveryOptions): OidcDiscovery {
  const url = discoveryUrl(checkedUrl(options.issuer, 'issuer', options.allowInsecureHttp).href);
  let jwksUri: URL | undefined;
  let pending: Promise<URL> | undefined;
  let failure: { at: number; message: string } | undefined;

  async function load(): Promise<URL> {
    const document = await fetchMetadata(url, {
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      what: 'discovery',
      accept: 'application/json',
    });
    if (typeof document !== 'object' || document === null) {
      throw new Error('discovery document is not an object');
    }
    const fields = document as Record<string, unknown>;
    // §4.3: the document's issuer MUST equal the configured one, or it describes someone else.
    if (fields['issuer'] !== options.issuer) throw new Error('discovery document issuer mismatch');
    if (typeof fields['jwks_uri'] !== 'string')
      throw new Error('discovery document has no jwks_uri');
    return checkedUrl(fields['jwks_uri'], 'jwks_uri', options.allowInsecureHttp);
  }

  return {
    async jwksUri(): Promise<URL> {
      if (jwksUri) return jwksUri;
      if (pending) return pending;
      if (failure && options.now() - failure.at < options.retryAfterMs) {
        throw new Error(failure.message);
      }
      pending = load().then(
        (found) => {
          jwksUri = found;
          failure = undefined;
          return found;
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : 'discovery failed';
          failure = { at: options.now(), message };
          throw new Error(message);
        },
      );
      try {
        return await pending;
      } finally {
        pending = undefined;
      }
    },
  };
}

/** https, or http to a loopback address (local development and tests), or explicitly allowed. */
export function checkedUrl(value: string, what: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`auth: ${what} is not an absolute URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (allowInsecureHttp || isLoopback(url.hostname))) return url;
  throw new TypeError(`auth: ${what} must use https`);
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}
