/**
 * Endpoints as the sender needs them, kept in memory: the endpoint, its signer (secrets
 * decoded once) and its rate limiter. An entry is re-read from the store after
 * `maxAgeMs` (another hub node may have changed the endpoint) and dropped at once when
 * this node changes it. The signer is rebuilt when a rotated-out secret expires.
 */
import { createSigner, type Signer, type SigningSecret } from '../signing/index.ts';
import { activeKeySets, type Endpoint } from '../endpoints/endpoint.ts';
import type { EndpointStore } from '../endpoints/endpoint-store.ts';
import { TokenBucket } from './token-bucket.ts';

export type CachedEndpoint = {
  endpoint: Endpoint;
  signer: Signer;
  /** When the signer must be rebuilt (a previous secret expires). */
  signerUntil: number;
  bucket: TokenBucket | undefined;
  loadedAt: number;
};

export class EndpointCache {
  readonly #store: EndpointStore;
  readonly #maxAgeMs: number;
  readonly #entries = new Map<string, CachedEndpoint>();
  /** Ids known not to exist, and since when (so a deleted endpoint's backlog does not hit the store per delivery). */
  readonly #missing = new Map<string, number>();
  readonly #loading = new Map<string, Promise<CachedEndpoint | undefined>>();

  constructor(store: EndpointStore, maxAgeMs = 1000) {
    this.#store = store;
    this.#maxAgeMs = maxAgeMs;
  }

  async get(id: string, now: number): Promise<CachedEndpoint | undefined> {
    const entry = this.#entries.get(id);
    if (entry && now - entry.loadedAt < this.#maxAgeMs) {
      if (now >= entry.signerUntil) this.#resign(entry, now);
      return entry;
    }
    const missingSince = this.#missing.get(id);
    if (!entry && missingSince !== undefined && now - missingSince < this.#maxAgeMs)
      return undefined;
    return this.#loading.get(id) ?? this.#startLoad(id, now);
  }

  /** The endpoint's concurrency if it is cached (the dispatcher asks synchronously). */
  concurrencyOf(id: string): number | undefined {
    return this.#entries.get(id)?.endpoint.concurrency;
  }

  /** This node changed the endpoint: read it again next time. */
  invalidate(id: string): void {
    const entry = this.#entries.get(id);
    if (entry) entry.loadedAt = -Infinity;
    this.#missing.delete(id);
    // A read that started before the change may return the old row: it must not be kept.
    this.#loading.delete(id);
  }

  /**
   * This node changed the endpoint: read it again now. The dispatcher asks for an
   * endpoint's concurrency (`concurrencyOf`) before it starts an attempt, so a copy
   * refreshed only by the next attempt kept the old number of slots until an attempt
   * ended. A failed read leaves the entry to be read at the next attempt.
   */
  async refresh(id: string, now: number): Promise<CachedEndpoint | undefined> {
    this.invalidate(id);
    return this.#startLoad(id, now).catch(() => undefined);
  }

  /** Updates the failing streak in place (the sender's own write; no reload needed). */
  setFailingSince(id: string, failingSince: number | null): void {
    const entry = this.#entries.get(id);
    if (entry) entry.endpoint = { ...entry.endpoint, failingSince };
  }

  #startLoad(id: string, now: number): Promise<CachedEndpoint | undefined> {
    const loading: Promise<CachedEndpoint | undefined> = this.#store.get(id).then(
      (endpoint) => {
        // Superseded by `invalidate` while reading, so the row may predate the change:
        // the newer read answers.
        if (this.#loading.get(id) !== loading) return this.#loading.get(id) ?? this.get(id, now);
        this.#loading.delete(id);
        return this.#keep(id, endpoint, now);
      },
      (error: unknown) => {
        if (this.#loading.get(id) === loading) this.#loading.delete(id);
        throw error;
      },
    );
    this.#loading.set(id, loading);
    return loading;
  }

  #keep(id: string, endpoint: Endpoint | undefined, now: number): CachedEndpoint | undefined {
    if (!endpoint) {
      this.#entries.delete(id);
      this.#missing.set(id, now);
      return undefined;
    }
    this.#missing.delete(id);
    const previous = this.#entries.get(id);
    const rate = endpoint.rateLimitPerSecond;
    const bucket =
      rate === null
        ? undefined
        : previous?.bucket?.ratePerSecond === rate
          ? previous.bucket
          : new TokenBucket(rate, now);
    const entry: CachedEndpoint = { endpoint, ...signerFor(endpoint, now), bucket, loadedAt: now };
    this.#entries.set(id, entry);
    return entry;
  }

  #resign(entry: CachedEndpoint, now: number): void {
    Object.assign(entry, signerFor(entry.endpoint, now));
  }
}

/** The signer for the keys that sign now (newest first), and until when it is right. */
function signerFor(endpoint: Endpoint, now: number): { signer: Signer; signerUntil: number } {
  const secrets: SigningSecret[] = activeKeySets(endpoint.secrets, now).flatMap((s) => [
    { kind: 'hmac' as const, secret: s.hmac },
    ...(s.ed25519 !== undefined && endpoint.ed25519
      ? [{ kind: 'ed25519' as const, secret: s.ed25519 }]
      : []),
  ]);
  const expiries = endpoint.secrets.previous.map((p) => p.expiresAt).filter((t) => t > now);
  return {
    signer: createSigner(secrets),
    signerUntil: expiries.length > 0 ? Math.min(...expiries) : Infinity,
  };
}
