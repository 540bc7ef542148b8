/**
 * An Authenticator that remembers tokens it has verified, so every route pays for a
 * signature check once per token rather than once per request (EdDSA/RSA verification is
 * the largest CPU cost of a small publish or a proxied request otherwise). An entry is used only until the
 * token's own `exp` (no clock tolerance: stricter than the first check) and at most `ttlMs`
 * after it was verified; the same token string is required byte for byte. Failures are not
 * cached. Bounded: past `maxEntries` the oldest entry goes.
 */
import type { Authenticator, Principal } from './principal.ts';

export class VerifiedTokens implements Authenticator {
  readonly #inner: Authenticator;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #clock: () => number;
  readonly #entries = new Map<string, { principal: Principal; until: number }>();

  constructor(
    inner: Authenticator,
    options: { ttlMs?: number; maxEntries?: number; clock?: () => number } = {},
  ) {
    this.#inner = inner;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#clock = options.clock ?? Date.now;
  }

  known(token: string): Principal | undefined {
    const hit = this.#entries.get(token);
    if (hit === undefined) return undefined;
    if (this.#clock() < hit.until) return hit.principal;
    this.#entries.delete(token);
    return undefined;
  }

  async authenticate(token: string): Promise<Principal> {
    const now = this.#clock();
    const hit = this.known(token);
    if (hit !== undefined) return hit;
    const principal = await this.#inner.authenticate(token);
    const until = Math.min(principal.expiresAt * 1000, now + this.#ttlMs);
    if (until > now) {
      if (this.#entries.size >= this.#maxEntries)
        this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(token, { principal, until });
    }
    return principal;
  }
}
