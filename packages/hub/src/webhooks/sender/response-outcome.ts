/**
 * What one HTTP answer (or failure to get one) means for a webhook delivery:
 * - 2xx: delivered.
 * - 410 Gone: the receiver says the endpoint is gone: failed for good, and the endpoint
 *   is disabled (the caller does that).
 * - 429, 502, 503, 504: retried, at the time `Retry-After` names when it is given.
 * - 3xx: failed attempt, retried on the schedule (redirects are never followed: a
 *   redirect could lead anywhere, including to a private address).
 * - any other status: failed attempt, retried on the schedule (Standard Webhooks:
 *   anything but 2xx is a failure).
 * - the SSRF policy refused the address: failed for good (`ssrf-blocked`).
 * - a timeout or a network error: retried on the schedule.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { DeliveryResult } from '../../delivery/delivery-target.ts';
import { SsrfBlockedError } from '../ssrf/index.ts';

const HONOURS_RETRY_AFTER = new Set([429, 502, 503, 504]);

export function outcomeOfResponse(
  response: { status: number; headers: IncomingHttpHeaders; body: string },
  now: number,
): DeliveryResult {
  const { status } = response;
  const detail = { statusCode: status, response: response.body };
  if (status >= 200 && status < 300) return { outcome: 'delivered', detail };
  if (status === 410)
    return {
      outcome: 'failed',
      error: 'HTTP 410 Gone: the receiver retired this endpoint; it is now disabled',
      reason: 'http-410',
      detail,
    };
  if (status >= 300 && status < 400)
    return {
      outcome: 'retry',
      error: `HTTP ${status}: redirects are not followed; point the endpoint at the final URL`,
      detail,
    };
  if (HONOURS_RETRY_AFTER.has(status)) {
    const after = retryAfterMs(response.headers['retry-after'], now);
    return {
      outcome: 'retry',
      error: `HTTP ${status}`,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
      detail,
    };
  }
  return { outcome: 'retry', error: `HTTP ${status}`, detail };
}

export function outcomeOfError(error: unknown, timeoutMs: number): DeliveryResult {
  if (error instanceof SsrfBlockedError)
    return { outcome: 'failed', error: error.message, reason: 'ssrf-blocked' };
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown };
  if (
    e.name === 'TimeoutError' ||
    e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e.code === 'UND_ERR_BODY_TIMEOUT' ||
    e.code === 'UND_ERR_CONNECT_TIMEOUT'
  )
    return { outcome: 'retry', error: `no answer within ${timeoutMs} ms` };
  // undici wraps connect failures; the cause names them (ECONNREFUSED, ENOTFOUND …).
  if (e.cause instanceof SsrfBlockedError)
    return { outcome: 'failed', error: e.cause.message, reason: 'ssrf-blocked' };
  const cause = e.cause as { code?: string; message?: string } | undefined;
  const text = cause?.code ?? e.code ?? e.message ?? String(error);
  return { outcome: 'retry', error: `request failed: ${text}` };
}

/**
 * The longest wait a `Retry-After` may ask for. Longer than any retry schedule's maximum age
 * (50 delays of at most 7 days, plus a day), so such an answer still ends in the DLQ
 * (`max-age`), but the number stays small enough for the attempt log's bigint column:
 * `Retry-After: 99999999999999999` made the settle fail on PostgreSQL, so the delivery was
 * sent again after every lease.
 */
export const MAX_RETRY_AFTER_MS = 366 * 86_400_000;

/** `Retry-After` in seconds or as an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(
  value: string | string[] | undefined,
  now: number,
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(MAX_RETRY_AFTER_MS, Number(trimmed) * 1000);
  // An HTTP date names a day or a month. V8's Date.parse also reads "-1", "1.5" or "+5" as
  // dates in 2001, which made those values mean "retry at once".
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}
