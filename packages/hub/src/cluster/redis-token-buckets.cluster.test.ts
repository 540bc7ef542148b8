import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../store/store-unavailable-error.ts';
import { createRedisTokenBuckets } from './redis-token-buckets.ts';

// Redis at 127.0.0.1:6379. Keys of this run carry a prefix of their own and expire.
const URL = process.env.PORTICO_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const prefix = `portico-test:${randomBytes(4).toString('hex')}:`;
const clients: Redis[] = [];
const client = () => {
  const redis = new Redis(URL, { maxRetriesPerRequest: 1, lazyConnect: false });
  clients.push(redis);
  return redis;
};

afterAll(async () => {
  const keys = await clients[0]!.keys(`${prefix}*`);
  if (keys.length > 0) await clients[0]!.del(...keys);
  for (const c of clients) c.disconnect();
});

describe('token buckets shared through Redis', () => {
  it('gives several nodes one limit between them, not one each', async () => {
    const nodeA = createRedisTokenBuckets(client(), { prefix });
    const nodeB = createRedisTokenBuckets(client(), { prefix });
    const spec = { burst: 5, perSecond: 0.5 };
    const verdicts = [];
    for (let i = 0; i < 8; i++)
      verdicts.push(...(await (i % 2 ? nodeA : nodeB).take([{ key: 'tenant|acme', spec }])));
    expect(verdicts.map((v) => v.allowed)).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(verdicts[4]).toMatchObject({ allowed: true, remaining: 0 });
    expect(verdicts[5]).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 2 });
    expect(verdicts[5]!.resetSeconds).toBeGreaterThanOrEqual(9);
  });

  it('takes from every bucket of a request or from none, and refills with time', async () => {
    const buckets = createRedisTokenBuckets(client(), { prefix });
    const tight = { key: 'client|c1', spec: { burst: 1, perSecond: 20 } };
    const loose = { key: 'tenant|t1', spec: { burst: 10, perSecond: 1 } };
    expect((await buckets.take([loose, tight])).map((v) => v.allowed)).toEqual([true, true]);
    const refused = await buckets.take([loose, tight]);
    expect(refused.map((v) => v.allowed)).toEqual([true, false]);
    expect(refused[0]!.remaining).toBe(9); // the refused request spent nothing
    await new Promise((resolve) => setTimeout(resolve, 120)); // 20/s: one token is back
    expect((await buckets.take([loose, tight])).map((v) => v.allowed)).toEqual([true, true]);
    expect((await buckets.take([loose]))[0]!.remaining).toBe(7);
    // An idle bucket's key expires once it would be full again.
    const ttl = await clients.at(-1)!.pttl(`${prefix}client|c1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(50);
  });

  it('reports an unreachable Redis as unavailable', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const buckets = createRedisTokenBuckets(down, { prefix });
    await expect(
      buckets.take([{ key: 'x', spec: { burst: 1, perSecond: 1 } }]),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    down.disconnect();
  });
});
