import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { fetchMetadata } from './fetch-metadata.ts';
import { AuthenticationUnavailableError } from './principal.ts';

export type JwksCacheOptions = {
  /** Where the key set lives; resolved lazily (OIDC discovery) on the first fetch. */
  jwksUri: () => Promise<URL>;
  fetch: typeof fetch;
  timeoutMs: number;
  /**
   * The least time between two fetches that a request can cause (an unknown `kid`, a failed
   * fetch). Tokens with made-up `kid`s therefore cost the identity provider one request per
   * cooldown, however many arrive.
   */
  cooldownMs: number;
  /** Keys older than this are refetched before use; if that fails, the old keys stay in use. */
  maxAgeMs: number;
  now: () => number;
};

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/**
 * The issuer's signing keys, fetched on first use and kept in this instance. An unknown `kid`
 * triggers one refetch (key rotation), rate-limited by the cooldown. Signature checks and key
 * matching are jose's (createLocalJWKSet); this only decides when to fetch.
 */
export type JwksCache = {
  /** The key resolver for jwtVerify. */
  getKey: JWTVerifyGetKey;
  /** Makes sure keys are loaded; throws AuthenticationUnavailableError when they cannot be. */
  load(): Promise<void>;
};

export function createJwksCache(options: JwksCacheOptions): JwksCache {
  let keys: LocalKeySet | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;
  /** Why the last fetch failed, so callers turned away during the cooldown learn it too. */
  let lastFailure = 'not loaded yet';

  const coolingDown = () => options.now() - lastAttemptAt < options.cooldownMs;

  function refresh(): Promise<void> {
    pending ??= (async () => {
      lastAttemptAt = options.now();
      const url = await options.jwksUri();
      const json = await fetchMetadata(url, {
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
        what: 'JWKS',
        accept: 'application/jwk-set+json, application/json',
      });
      let next: LocalKeySet;
      try {
        next = createLocalJWKSet(json as JSONWebKeySet);
      } catch {
        throw new Error('JWKS response is not a key set');
      }
      keys = next;
      fetchedAt = options.now();
    })()
      .catch((error: unknown) => {
        lastFailure = error instanceof Error ? error.message : 'unknown error';
        throw error;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  async function currentKeys(): Promise<LocalKeySet> {
    const fresh = keys !== undefined && options.now() - fetchedAt < options.maxAgeMs;
    if (!fresh && (pending || !coolingDown())) {
      try {
        await refresh();
      } catch {
        // Stale keys beat no keys while the identity provider is unreachable.
      }
    }
    if (!keys) throw new AuthenticationUnavailableError(`signing keys unavailable: ${lastFailure}`);
    return keys;
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const set = await currentKeys();
    try {
      return await set(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      if (!pending && coolingDown()) throw error;
      try {
        await refresh();
      } catch {
        throw error;
      }
      return (keys ?? set)(header, token);
    }
  };
  return {
    getKey,
    async load() {
      await currentKeys();
    },
  };
}
