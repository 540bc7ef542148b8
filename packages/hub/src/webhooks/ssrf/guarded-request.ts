/**
 * One outbound request for a delivery attempt: validate the URL, send it through the guarded
 * dispatcher without following redirects, and keep what the attempt log needs (status,
 * headers, latency, the first few KiB of the body).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { GuardedDispatcher } from './guarded-dispatcher.ts';
import { SsrfBlockedError } from './ssrf-blocked-error.ts';
import { checkTargetUrl } from './target-url.ts';

export type GuardedRequestInit = {
  /** Default POST. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Whole-request deadline (connect, headers and the body prefix), default 15 s. */
  timeoutMs?: number;
  /** How much of the response body to keep, default 4 KiB. */
  maxBodyBytes?: number;
  /** Aborts the request early (e.g. the hub is stopping), besides the timeout. */
  signal?: AbortSignal;
};

export type GuardedResponse = {
  status: number;
  headers: IncomingHttpHeaders;
  /** The first maxBodyBytes of the body, decoded as UTF-8 (a cut character becomes U+FFFD). */
  body: string;
  bodyTruncated: boolean;
  /** From sending the request to having read the kept body prefix. */
  latencyMs: number;
};

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_BODY_BYTES = 4 * 1024;
// Read (and discard) up to this much past the kept prefix so the connection can be reused;
// a longer body is cut off and its connection closed.
const DRAIN_LIMIT_BYTES = 64 * 1024;

/**
 * Throws SsrfBlockedError when the URL or the address is refused; other failures (timeouts,
 * refused connections, TLS) surface as undici/Node errors for the caller to classify.
 */
export async function guardedRequest(
  url: string,
  init: GuardedRequestInit,
  dispatcher: GuardedDispatcher,
): Promise<GuardedResponse> {
  const check = checkTargetUrl(url, dispatcher.allowHttp, dispatcher.guard);
  if (!check.ok) throw new SsrfBlockedError(check.reason);
  const maxBodyBytes = init.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const started = performance.now();
  const response = await dispatcher.request({
    origin: check.url.origin,
    path: check.url.pathname + check.url.search,
    method: init.method ?? 'POST',
    headers: init.headers,
    body: init.body,
    signal: init.signal
      ? AbortSignal.any([init.signal, AbortSignal.timeout(init.timeoutMs ?? DEFAULT_TIMEOUT_MS)])
      : AbortSignal.timeout(init.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });

  const kept: Buffer[] = [];
  let keptBytes = 0;
  let receivedBytes = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    receivedBytes += chunk.length;
    if (keptBytes < maxBodyBytes) {
      const part = chunk.subarray(0, maxBodyBytes - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    if (receivedBytes > maxBodyBytes + DRAIN_LIMIT_BYTES) break; // leaving the loop destroys the body
  }

  return {
    status: response.statusCode,
    headers: response.headers,
    body: new TextDecoder().decode(Buffer.concat(kept)),
    bodyTruncated: receivedBytes > keptBytes,
    latencyMs: performance.now() - started,
  };
}
