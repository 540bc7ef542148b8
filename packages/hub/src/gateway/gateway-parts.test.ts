/** The gateway's small parts on a fake clock: buckets, quota, breaker, cache rules. */
import { util } from 'undici';
import { describe, expect, it } from 'vitest';
import { clientHeadersFromRaw, clientResponseHeaders } from './forward-headers.ts';
import { CircuitBreakers } from './circuit-breaker.ts';
import { DailyQuota } from './daily-quota.ts';
import type { Policy } from '../dictionary/index.ts';
import { checkRateLimits, rateLimitPlan } from './rate-limits.ts';
import type { ProblemError } from '../http/problem.ts';
import { MAX_VARIANTS, ResponseCache, sharedTtlSeconds } from './response-cache.ts';
import { TokenBuckets } from './token-buckets.ts';
import { TraceIds } from './trace-ids.ts';

describe('token buckets', () => {
  it('refills at the rate, up to the burst, and drops the least recently used key', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, () => now);
    const spec = { burst: 2, perSecond: 1 };
    const take = (key: string) => buckets.take([{ key, spec }])[0]!;
    expect(take('a').allowed).toBe(true);
    expect(take('a').allowed).toBe(true);
    const refused = take('a');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    now = 1500;
    expect(take('a')).toMatchObject({ allowed: true, remaining: 0 });
    now = 60_000;
    expect(take('a').remaining).toBe(1); // capped at the burst
    take('b');
    take('c'); // evicts a (least recently used): a starts full again
    expect(take('a').remaining).toBe(1);
  });

  it('spends from no bucket when one refuses', () => {
    const buckets = new TokenBuckets(10, () => 0);
    const wide = { key: 'tenant', spec: { burst: 10, perSecond: 1 } };
    const narrow = { key: 'client', spec: { burst: 1, perSecond: 1 } };
    buckets.take([wide, narrow]);
    const [t, c] = buckets.take([wide, narrow]);
    expect(c!.allowed).toBe(false);
    expect(t!.remaining).toBe(9);
  });
});

describe('rate limit plans', () => {
  it('hold a refill stored before the minimum was checked to the minimum, so no header says Infinity', () => {
    const plan = rateLimitPlan(
      { rateLimit: { tenant: { burst: 10, perSecond: 1e-320 } } } as Policy,
      'orders/v1',
    )!;
    expect(plan.policyHeader).toBe('"tenant";q=10;w=10000');
    expect(plan.limits[0]!.spec).toEqual({ burst: 10, perSecond: 0.001 });
  });
});

describe('rate limits and the daily quota together', () => {
  it("spends none of the day's quota on requests the rate limit refuses", () => {
    let now = Date.parse('2026-03-01T12:00:00Z');
    const buckets = new TokenBuckets(10, () => now);
    const quota = new DailyQuota(() => now);
    const plan = rateLimitPlan(
      { quotaPerDay: 3, rateLimit: { tenant: { burst: 1, perSecond: 1 } } } as Policy,
      'orders/v1',
    )!;
    const alice = { tenant: 'acme', subject: 'alice', scopes: new Set<string>(), expiresAt: 0 };
    const check = () => {
      try {
        checkRateLimits(buckets, quota, plan, alice, '-');
        return 'allowed';
      } catch (error) {
        return (error as ProblemError).message;
      }
    };
    expect(check()).toBe('allowed');
    // A client retrying its 429 in a tight loop: refused by the bucket every time.
    for (let i = 0; i < 10; i++) expect(check()).toMatch(/tenant rate limit/);
    now += 1000;
    expect(check()).toBe('allowed');
    now += 1000;
    expect(check()).toBe('allowed');
    now += 1000;
    expect(check()).toMatch(/daily quota of 3/);
  });
});

describe('daily quota', () => {
  it('counts per key per UTC day', () => {
    let now = Date.parse('2026-03-01T23:59:00Z');
    const quota = new DailyQuota(() => now);
    expect(quota.take('k', 2)).toBeUndefined();
    expect(quota.take('k', 2)).toBeUndefined();
    expect(quota.take('k', 2)).toBe(60);
    expect(quota.take('other', 2)).toBeUndefined();
    now = Date.parse('2026-03-02T00:00:01Z');
    expect(quota.take('k', 2)).toBeUndefined();
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, lets one trial through, re-opens or closes', () => {
    let now = 0;
    const breakers = new CircuitBreakers(() => now);
    const spec = { failures: 2, openSeconds: 10 };
    breakers.failure('u', spec);
    breakers.success('u'); // not consecutive
    breakers.failure('u', spec);
    expect(breakers.admit('u')).toBeUndefined();
    breakers.failure('u', spec);
    expect(breakers.state('u')).toBe('open');
    expect(breakers.admit('u')).toBe(10);
    now = 10_000;
    expect(breakers.admit('u')).toBeUndefined(); // the trial
    expect(breakers.admit('u')).toBe(1); // only one at a time
    breakers.failure('u', spec);
    expect(breakers.state('u')).toBe('open');
    now = 20_000;
    expect(breakers.admit('u')).toBeUndefined();
    breakers.success('u');
    expect(breakers.state('u')).toBe('closed');
  });
});

describe('response cache', () => {
  it('stores only what a shared cache may', () => {
    expect(sharedTtlSeconds(200, { 'cache-control': 'max-age=60' })).toBe(60);
    expect(sharedTtlSeconds(200, { 'cache-control': 'public, max-age=60, s-maxage=5' })).toBe(5);
    expect(sharedTtlSeconds(200, { 'cache-control': 'private, max-age=60' })).toBeUndefined();
    expect(sharedTtlSeconds(200, { 'cache-control': 'no-store' })).toBeUndefined();
    expect(sharedTtlSeconds(200, { 'cache-control': 'no-cache, max-age=9' })).toBeUndefined();
    expect(sharedTtlSeconds(200, {})).toBeUndefined();
    expect(sharedTtlSeconds(500, { 'cache-control': 'max-age=60' })).toBeUndefined();
    expect(
      sharedTtlSeconds(200, { 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }),
    ).toBeUndefined();
  });

  it('does not share the answer to an authorized request unless it says it may (RFC 9111 §3.5)', () => {
    const maxAge = { 'cache-control': 'max-age=60' };
    expect(sharedTtlSeconds(200, maxAge, true)).toBeUndefined();
    expect(sharedTtlSeconds(200, { 'cache-control': 'public, max-age=60' }, true)).toBe(60);
    expect(sharedTtlSeconds(200, { 'cache-control': 's-maxage=30' }, true)).toBe(30);
    expect(sharedTtlSeconds(200, { 'cache-control': 'max-age=60, must-revalidate' }, true)).toBe(
      60,
    );
    const cache = new ResponseCache({ maxBytes: 10_000, maxEntryBytes: 10_000 });
    const alice = (name: string) => (name === 'authorization' ? 'Bearer alice' : '');
    expect(cache.store('k', 200, maxAge, Buffer.from('alice'), alice)).toBe(false);
    expect(cache.lookup('k', () => '')).toBeUndefined();
  });

  it('keeps a bounded number of variants per URL and counts keys and varied values', () => {
    const cache = new ResponseCache({ maxBytes: 1_000_000, maxEntryBytes: 100_000 });
    const headers = { 'cache-control': 'max-age=60', vary: 'accept-encoding' };
    const encoding = (value: string) => (name: string) => (name === 'accept-encoding' ? value : '');
    // A caller inventing a new Accept-Encoding per request.
    for (let i = 0; i < 1000; i++)
      expect(cache.store('k', 200, headers, Buffer.alloc(0), encoding(`x-${i}`))).toBe(true);
    expect(cache.lookup('k', encoding('x-0'))).toBeUndefined();
    expect(cache.lookup('k', encoding(`x-${999 - MAX_VARIANTS}`))).toBeUndefined();
    expect(cache.lookup('k', encoding(`x-${1000 - MAX_VARIANTS}`))).toBeDefined();
    expect(cache.lookup('k', encoding('x-999'))).toBeDefined();
    const perVariant = 1 + 'cache-control'.length + 'max-age=60'.length + 'vary'.length;
    expect(cache.size).toBeGreaterThanOrEqual(MAX_VARIANTS * perVariant);
    expect(cache.size).toBeLessThan(MAX_VARIANTS * 100);
    // An empty answer under a 10 000-character URL weighs at least its key.
    const other = new ResponseCache({ maxBytes: 1_000_000, maxEntryBytes: 100_000 });
    const longKey = ResponseCache.key('acme', `http://u/${'p'.repeat(10_000)}`);
    other.store(longKey, 200, { 'cache-control': 'max-age=60' }, Buffer.alloc(0), () => '');
    expect(other.size).toBeGreaterThan(10_000);
  });

  it('expires entries, keeps variants apart and stays within its byte budget', () => {
    let now = 0;
    const cache = new ResponseCache({ maxBytes: 200, maxEntryBytes: 150, clock: () => now });
    const headers = { 'cache-control': 'max-age=1', vary: 'accept' };
    const accept = (value: string) => (name: string) => (name === 'accept' ? value : '');
    expect(cache.store('k', 200, headers, Buffer.from('json'), accept('json'))).toBe(true);
    expect(cache.store('k', 200, headers, Buffer.from('xml'), accept('xml'))).toBe(true);
    expect(cache.lookup('k', accept('json'))!.body.toString()).toBe('json');
    expect(cache.lookup('k', accept('xml'))!.body.toString()).toBe('xml');
    expect(cache.lookup('k', accept('csv'))).toBeUndefined();
    expect(cache.store('big', 200, headers, Buffer.alloc(151), accept(''))).toBe(false);
    expect(cache.store('k2', 200, headers, Buffer.alloc(100), accept(''))).toBe(true);
    expect(cache.size).toBeLessThanOrEqual(200);
    expect(cache.lookup('k', accept('json'))).toBeUndefined(); // evicted, least recent
    now = 1001;
    expect(cache.lookup('k2', accept(''))).toBeUndefined(); // expired
    expect(
      cache.store(
        'v',
        200,
        { 'cache-control': 'max-age=1', vary: '*' },
        Buffer.from('x'),
        accept(''),
      ),
    ).toBe(false);
  });
});

describe('client-bound headers from the raw list', () => {
  it('match parsing the headers first and then cleaning them', () => {
    const lists = [
      ['Content-Type', 'text/plain', 'Content-Length', '5', 'Connection', 'keep-alive'],
      ['X-Hop', 'a', 'Connection', 'X-Hop, close', 'Keep-Alive', 'timeout=5', 'x-stay', 'b'],
      ['Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Vary', 'accept', 'vary', 'origin'],
      ['Set-Cookie', 'only=1', 'Transfer-Encoding', 'chunked', 'Trailer', 'x', 'Upgrade', 'h2c'],
      ['__proto__', 'x', 'ETag', '"1"'],
    ];
    for (const list of lists) {
      const raw = list.map((v) => Buffer.from(v, 'latin1'));
      for (const keepLength of [true, false])
        expect(clientHeadersFromRaw(raw, keepLength), list.join(' ')).toEqual(
          clientResponseHeaders(util.parseHeaders(raw), keepLength),
        );
    }
  });
});

describe('trace ids', () => {
  it('continues a valid trace with a new span, and starts a new one otherwise', () => {
    const ids = new TraceIds();
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    expect(ids.child(` ${incoming.toUpperCase()} `)).toMatch(
      /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-00$/,
    );
    for (const invalid of [
      undefined,
      'garbage',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    ])
      expect(ids.child(invalid)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // Past several refills of the pool, no id repeats.
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(ids.child(undefined));
    expect(seen.size).toBe(1000);
  });
});
