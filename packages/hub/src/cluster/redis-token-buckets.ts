/**
 * Token buckets shared by every hub node, in Redis: the seam for cluster-wide rate limits
 * (the gateway's buckets are per node, in memory). One Lua script per check refills and
 * takes from all of a request's buckets atomically on the Redis server, with Redis's own
 * clock, so nodes with skewed clocks agree and N nodes allow one limit, not N × it.
 *
 * Semantics match the in-memory buckets: a request takes one token from every listed
 * bucket, or from none when any of them is empty. A bucket key expires once it would be
 * full again (an absent key is a full bucket), so Redis holds only active clients.
 * Redis unreachable → StoreUnavailableError (the caller chooses to fail open or closed).
 */
import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../store/store-unavailable-error.ts';

export type SharedBucketSpec = { burst: number; perSecond: number };

export type SharedBucketVerdict = {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until one token is available again (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
};

export interface SharedTokenBuckets {
  take(limits: readonly { key: string; spec: SharedBucketSpec }[]): Promise<SharedBucketVerdict[]>;
}

// KEYS: bucket keys. ARGV: burst1, perSecond1, burst2, perSecond2, …
// Returns, per bucket, the tokens left (as a string: Lua numbers become integers).
const TAKE = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local tokens = {}
local allowed = 1
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 't', 'at')
  local t = burst
  if state[1] then
    t = math.min(burst, tonumber(state[1]) + (now - tonumber(state[2])) / 1000 * rate)
  end
  tokens[i] = t
  if t < 1 then allowed = 0 end
end
local out = { allowed }
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local t = tokens[i]
  if allowed == 1 then t = t - 1 end
  redis.call('HSET', key, 't', tostring(t), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.max(1, math.ceil((burst - t) / rate * 1000)))
  out[i + 1] = tostring(t)
end
return out`;

export function createRedisTokenBuckets(
  redis: Redis,
  options: { prefix?: string } = {},
): SharedTokenBuckets {
  const prefix = options.prefix ?? 'portico:rl:';
  return {
    async take(limits) {
      if (limits.length === 0) return [];
      for (const { spec } of limits)
        if (!(spec.burst >= 1) || !(spec.perSecond > 0))
          throw new RangeError('a bucket needs burst ≥ 1 and perSecond > 0');
      let reply: unknown;
      try {
        reply = await redis.eval(
          TAKE,
          limits.length,
          ...limits.map((l) => `${prefix}${l.key}`),
          ...limits.flatMap((l) => [l.spec.burst, l.spec.perSecond]),
        );
      } catch (error) {
        throw new StoreUnavailableError(`Redis is unavailable: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const [allowedFlag, ...left] = reply as [number, ...string[]];
      const allowed = allowedFlag === 1;
      return limits.map(({ spec }, i) => {
        const tokens = Number(left[i]);
        return {
          allowed: allowed || tokens >= 1,
          remaining: Math.floor(tokens),
          retryAfterSeconds: tokens >= 1 ? 0 : Math.ceil((1 - tokens) / spec.perSecond),
          resetSeconds: Math.ceil((spec.burst - tokens) / spec.perSecond),
        };
      });
    },
  };
}
