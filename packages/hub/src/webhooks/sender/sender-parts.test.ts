import { describe, expect, it } from 'vitest';
import { SsrfBlockedError } from '../ssrf/index.ts';
import { messageId } from './message-id.ts';
import { outcomeOfError, outcomeOfResponse, retryAfterMs } from './response-outcome.ts';
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
