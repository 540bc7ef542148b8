/**
 * Where the gateway's token buckets live. In memory (per node), or shared through Redis
 * (`../cluster/redis-token-buckets.ts`) so N nodes allow one limit rather than N × it.
 * While Redis is unreachable the node falls back to its own buckets (fail open to a per-node
 * limit, never to no limit), logging the outage at most once a minute.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { SharedTokenBuckets } from '../cluster/redis-token-buckets.ts';
import type { BucketSpec, BucketVerdict, TokenBuckets } from './token-buckets.ts';

export interface BucketStore {
  take(
    limits: readonly { key: string; spec: BucketSpec }[],
  ): BucketVerdict[] | Promise<BucketVerdict[]>;
}

export class SharedWithFallback implements BucketStore {
  readonly #shared: SharedTokenBuckets;
  readonly #local: TokenBuckets;
  readonly #log: FastifyBaseLogger;
  #warnedAt = 0;

  constructor(shared: SharedTokenBuckets, local: TokenBuckets, log: FastifyBaseLogger) {
    this.#shared = shared;
    this.#local = local;
    this.#log = log;
  }

  async take(limits: readonly { key: string; spec: BucketSpec }[]): Promise<BucketVerdict[]> {
    try {
      return await this.#shared.take(limits);
    } catch (error) {
      if (Date.now() - this.#warnedAt > 60_000) {
        this.#warnedAt = Date.now();
        this.#log.warn(
          { err: error },
          "gateway: shared rate limits unavailable, using this node's own buckets",
        );
      }
      return this.#local.take(limits);
    }
  }
}
