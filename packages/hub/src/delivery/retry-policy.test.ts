import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  decideRetry,
  resolvePolicy,
  STANDARD_WEBHOOKS_DELAYS_MS,
  type RetryPolicy,
} from './retry-policy.ts';

const exponential: RetryPolicy = {
  baseDelayMs: 100,
  maxDelayMs: 1000,
  maxAttempts: 6,
  maxAgeMs: 60_000,
  jitter: 'none',
};

describe('retry policy', () => {
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(exponential, n))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffMs(exponential, 5000)).toBe(1000);
  });

  it('follows a schedule and repeats its last delay when more attempts are allowed', () => {
    const schedule = { ...exponential, delaysMs: [5, 50, 500], maxAttempts: 10 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(schedule, n))).toEqual([5, 50, 500, 500, 500]);
  });

  it('draws full jitter uniformly in [0, delay]', () => {
    const jittered = { ...exponential, jitter: 'full' as const };
    expect(decideRetry(jittered, { attemptsMade: 3, ageMs: 0 }, () => 0)).toEqual({
      retry: true,
      delayMs: 0,
    });
    expect(decideRetry(jittered, { attemptsMade: 3, ageMs: 0 }, () => 0.999999)).toEqual({
      retry: true,
      delayMs: 400,
    });
    expect(decideRetry(jittered, { attemptsMade: 3, ageMs: 0 }, () => 0.5)).toEqual({
      retry: true,
      delayMs: 200,
    });
  });

  it('gives up after maxAttempts, or when the next try would pass the maximum age', () => {
    expect(decideRetry(exponential, { attemptsMade: 6, ageMs: 0 })).toEqual({
      retry: false,
      reason: 'max-attempts',
    });
    expect(decideRetry(exponential, { attemptsMade: 2, ageMs: 59_900 })).toEqual({
      retry: false,
      reason: 'max-age',
    });
  });

  it('lets Retry-After replace the backoff, within the maximum age', () => {
    expect(decideRetry(exponential, { attemptsMade: 1, ageMs: 0, retryAfterMs: 30_000 })).toEqual({
      retry: true,
      delayMs: 30_000,
    });
    expect(
      decideRetry(exponential, { attemptsMade: 1, ageMs: 0, retryAfterMs: 3_600_000 }),
    ).toEqual({ retry: false, reason: 'max-age' });
  });

  it('applies a rule target override on top of the kind default', () => {
    const p = resolvePolicy(
      { ...exponential, delaysMs: STANDARD_WEBHOOKS_DELAYS_MS, maxAttempts: 10 },
      {
        delaysSeconds: [0.01, 0.02],
        maxAgeSeconds: 5,
      },
    );
    expect(p).toMatchObject({ delaysMs: [10, 20], maxAttempts: 3, maxAgeMs: 5000 });
    const q = resolvePolicy(
      { ...exponential, delaysMs: [1, 2] },
      { baseDelaySeconds: 2, maxAttempts: 4 },
    );
    expect(q.delaysMs).toBeUndefined();
    expect(q).toMatchObject({ baseDelayMs: 2000, maxDelayMs: 1000, maxAttempts: 4 });
  });
});
