import { describe, expect, it } from 'vitest';
import { SsrfBlockedError } from '../ssrf/index.ts';
import { messageId } from './message-id.ts';
import {
  MAX_RETRY_AFTER_MS,
  outcomeOfError,
  outcomeOfResponse,
  retryAfterMs,
} from './response-outcome.ts';
import { TokenBucket } from './token-bucket.ts';

const answer = (status: number, headers: Record<string, string> = {}) =>
  outcomeOfResponse({ status, headers, body: 'x' }, 1_000_000);

describe('judging an answer', () => {
  it('2xx delivers, 410 fails for good, 3xx and other statuses retry on the schedule', () => {
    expect(answer(200).outcome).toBe('delivered');
    expect(answer(204).outcome).toBe('delivered');
    expect(answer(410)).toMatchObject({ outcome: 'failed', reason: 'http-410' });
    for (const status of [301, 302, 307, 308, 400, 401, 404, 500])
      expect(answer(status, { 'retry-after': '7' }), String(status)).toMatchObject({
        outcome: 'retry',
      });
    expect(answer(500, { 'retry-after': '7' })).not.toHaveProperty('retryAfterMs');
  });

  it('honours Retry-After on 429, 502, 503 and 504, in seconds or as a date', () => {
    for (const status of [429, 502, 503, 504])
      expect(answer(status, { 'retry-after': '7' })).toMatchObject({
        outcome: 'retry',
        retryAfterMs: 7000,
      });
    expect(retryAfterMs(new Date(1_030_000).toUTCString(), 1_000_000)).toBe(30_000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(undefined, 0)).toBeUndefined();
  });

  it('ignores a Retry-After that is neither delay-seconds nor a date (negative, fractional, signed)', () => {
    for (const value of ['-1', '1.5', '+5', '-0', '5s', ''])
      expect(retryAfterMs(value, 1_000_000), JSON.stringify(value)).toBeUndefined();
    expect(answer(503, { 'retry-after': '-1' })).not.toHaveProperty('retryAfterMs');
    expect(retryAfterMs(' 5 ', 0)).toBe(5000);
    expect(retryAfterMs('Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 7))).toBe(
      30_000,
    );
  });

  it('caps a huge Retry-After (seconds or a far date) so the attempt log can hold it', () => {
    expect(retryAfterMs('99999999999999999999', 0)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('9'.repeat(400), 0)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('Fri, 31 Dec 9999 23:59:59 GMT', 0)).toBe(MAX_RETRY_AFTER_MS);
    // Past any retry schedule's maximum age (at most 351 days): still the DLQ, as before.
    expect(MAX_RETRY_AFTER_MS).toBeGreaterThan((50 * 7 + 1) * 86_400_000);
    expect(MAX_RETRY_AFTER_MS).toBeLessThan(Number.MAX_SAFE_INTEGER);
  });

  it('keeps the status and the start of the answer for the attempt log', () => {
    expect(answer(503)).toMatchObject({ detail: { statusCode: 503, response: 'x' } });
  });

  it('SSRF refusals fail for good; timeouts and network errors retry', () => {
    expect(outcomeOfError(new SsrfBlockedError('blocked'), 15_000)).toMatchObject({
      outcome: 'failed',
      reason: 'ssrf-blocked',
    });
    const wrapped = Object.assign(new Error('fetch failed'), {
      cause: new SsrfBlockedError('blocked'),
    });
    expect(outcomeOfError(wrapped, 15_000)).toMatchObject({ reason: 'ssrf-blocked' });
    expect(outcomeOfError(new DOMException('t', 'TimeoutError'), 15_000)).toEqual({
      outcome: 'retry',
      error: 'no answer within 15000 ms',
    });
    const refused = Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
    expect(outcomeOfError(refused, 1)).toEqual({
      outcome: 'retry',
      error: 'request failed: ECONNREFUSED',
    });
  });
});

describe('webhook-id', () => {
  it('is stable per (event, endpoint), differs otherwise, and has no dot', () => {
    const e = { tenantid: 't', source: '/s', id: '1' };
    expect(messageId(e, 'ep_1')).toBe(messageId({ ...e }, 'ep_1'));
    expect(messageId(e, 'ep_1')).not.toBe(messageId(e, 'ep_2'));
    expect(messageId(e, 'ep_1')).not.toBe(messageId({ ...e, id: '2' }, 'ep_1'));
    expect(messageId(e, 'ep_1')).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
  });

  it('keeps its value across versions (a retry after an upgrade must carry the same id)', () => {
    const e = { tenantid: 'acme', source: '/billing', id: 'inv-1' };
    expect(messageId(e, 'ep_1')).toBe('msg_bVLur7zUMRul-0LlX96DqvrCvh1J3wup');
  });
});

describe('token bucket', () => {
  it('allows a burst of one second, then one token per 1/rate', () => {
    const bucket = new TokenBucket(2, 0);
    expect(bucket.take(0)).toBe(0);
    expect(bucket.take(0)).toBe(0);
    expect(bucket.take(0)).toBe(500);
    expect(bucket.take(250)).toBe(250);
    expect(bucket.take(500)).toBe(0);
  });
});
