/**
 * Token buckets in this node's memory, keyed by whatever the caller chooses (tenant, app,
 * client). Bounded: past `maxKeys` the least recently used bucket is dropped, which can only
 * make a limit more lenient for a client idle long enough to be the oldest.
 */
export type BucketSpec = { burst: number; perSecond: number };

export type BucketVerdict = {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until one token is available again (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
};

type Bucket = { tokens: number; at: number };

export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;
  readonly #clock: () => number;

  constructor(maxKeys: number, clock: () => number = () => performance.now()) {
    this.#maxKeys = maxKeys;
    this.#clock = clock;
  }

  /**
   * Takes one token from every listed bucket, or from none when any of them is empty (a
   * request refused by one limit does not spend the others).
   */
  take(limits: readonly { key: string; spec: BucketSpec }[]): BucketVerdict[] {
    const now = this.#clock();
    const buckets = limits.map(({ key, spec }) => this.#refill(key, spec, now));
    const allowed = buckets.every((b) => b.tokens >= 1);
    return buckets.map((bucket, i) => {
      const spec = limits[i]!.spec;
      if (allowed) bucket.tokens -= 1;
      return {
        allowed: allowed || bucket.tokens >= 1,
        remaining: Math.floor(bucket.tokens),
        retryAfterSeconds: bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) / spec.perSecond),
        resetSeconds: Math.ceil((spec.burst - bucket.tokens) / spec.perSecond),
      };
    });
  }

  #refill(key: string, spec: BucketSpec, now: number): Bucket {
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key); // re-inserted below: Map order is recency
      bucket.tokens = Math.min(
        spec.burst,
        bucket.tokens + ((now - bucket.at) / 1000) * spec.perSecond,
      );
      bucket.at = now;
    } else {
      bucket = { tokens: spec.burst, at: now };
      if (this.#buckets.size >= this.#maxKeys)
        this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(key, bucket);
    return bucket;
  }
}
