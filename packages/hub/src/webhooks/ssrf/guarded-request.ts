/**
 * One outbound request for a delivery attempt: validate the URL, send it through the guarded
 * dispatcher without following redirects, and keep what the attempt log needs (status,
 * headers, latency, the first few KiB of the body).
 *
 * It talks to undici's dispatch handler interface rather than `request()`: an attempt only
 * keeps a short prefix of the answer, so a Readable body stream, its async iterator and two
 * composed AbortSignals per request were most of the client's cost under load.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { GuardedDispatcher } from './guarded-dispatcher.ts';
import { SsrfBlockedError } from './ssrf-blocked-error.ts';

export type GuardedRequestInit = {
  /** Default POST. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /**
   * Whole-request deadline (connect, headers and the body prefix), default 15 s. An answer
   * whose status came in time but whose body did not is returned as it is (truncated).
   */
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
 * refused connections, TLS) surface as undici/Node errors for the caller to classify. A
 * timeout rejects with a `TimeoutError` DOMException, like `AbortSignal.timeout`.
 */
export function guardedRequest(
  url: string,
  init: GuardedRequestInit,
  dispatcher: GuardedDispatcher,
): Promise<GuardedResponse> {
  const check = dispatcher.checkUrl(url);
  if (!check.ok) return Promise.reject(new SsrfBlockedError(check.reason));
  const { signal } = init;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  const timeoutMs = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return new Promise<GuardedResponse>((resolve, reject) => {
    const handler = new PrefixHandler(init.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, (outcome) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    });
    const onAbort = () => handler.abort(signal!.reason as Error);
    const timer = setTimeout(
      () =>
        handler.expire(
          new DOMException(`the request took longer than ${timeoutMs} ms`, 'TimeoutError'),
        ),
      timeoutMs,
    );
    timer.unref(); // like AbortSignal.timeout: a pending deadline alone keeps no process alive
    signal?.addEventListener('abort', onAbort, { once: true });
    dispatcher.dispatch(
      {
        origin: check.url.origin,
        path: check.url.pathname + check.url.search,
        method: (init.method ?? 'POST') as Dispatcher.HttpMethod,
        headers: init.headers,
        body: init.body,
      },
      handler,
    );
  });
}

/**
 * Keeps the answer's status, headers and the first `maxBodyBytes` of its body; reads on up
 * to DRAIN_LIMIT_BYTES more so the connection can be reused, then cuts it off. Settles once.
 */
class PrefixHandler implements Dispatcher.DispatchHandler {
  readonly #maxBodyBytes: number;
  readonly #settle: (outcome: GuardedResponse | Error) => void;
  readonly #started = performance.now();
  #controller: Dispatcher.DispatchController | undefined;
  /** An abort asked for before undici handed over its controller. */
  #pendingAbort: Error | undefined;
  #settled = false;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  readonly #kept: Buffer[] = [];
  #keptBytes = 0;
  #receivedBytes = 0;

  constructor(maxBodyBytes: number, settle: (outcome: GuardedResponse | Error) => void) {
    this.#maxBodyBytes = maxBodyBytes;
    this.#settle = settle;
  }

  abort(reason: Error): void {
    if (this.#settled) return;
    if (this.#controller) this.#controller.abort(reason);
    else this.#pendingAbort = reason;
    // undici reports the abort through onResponseError; settle now in case it is not connected yet.
    this.#finish(reason);
  }

  /**
   * The deadline passed. Once the receiver has sent its status it has decided, so the answer
   * is judged by it with the body kept so far (a 200 whose body then stalled was counted as
   * no answer and sent again); before that, the timeout is the outcome. Either way the
   * connection is closed.
   */
  expire(reason: Error): void {
    if (this.#settled) return;
    if (this.#status === 0) return this.abort(reason);
    this.#finish({ ...this.#response(), bodyTruncated: true });
    this.#controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#pendingAbort) controller.abort(this.#pendingAbort);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    // 1xx informational answers come before the real one.
    if (statusCode < 200) return;
    this.#status = statusCode;
    this.#headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#receivedBytes += chunk.length;
    if (this.#keptBytes < this.#maxBodyBytes) {
      const part = chunk.subarray(0, this.#maxBodyBytes - this.#keptBytes);
      this.#kept.push(part);
      this.#keptBytes += part.length;
    }
    if (this.#receivedBytes > this.#maxBodyBytes + DRAIN_LIMIT_BYTES) {
      this.#finish(this.#response());
      controller.abort(new Error('the answer is longer than the attempt log keeps'));
    }
  }

  onResponseEnd(): void {
    this.#finish(this.#response());
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#finish(error);
  }

  #response(): GuardedResponse {
    return {
      status: this.#status,
      headers: this.#headers,
      body: this.#kept.length === 0 ? '' : new TextDecoder().decode(Buffer.concat(this.#kept)),
      bodyTruncated: this.#receivedBytes > this.#keptBytes,
      latencyMs: performance.now() - this.#started,
    };
  }

  #finish(outcome: GuardedResponse | Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settle(outcome);
  }
}
