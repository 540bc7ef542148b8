/**
 * One proxied call to an upstream: through the SSRF-guarded undici Agent (keep-alive pools
 * per origin; addresses checked at connect time), with a deadline per attempt, retries for
 * idempotent methods only, and the circuit breaker of the tenant's calls to that upstream. Gateway failures become
 * 502 (unreachable), 503 (circuit open) and 504 (deadline) problems.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ProblemError } from '../http/problem.ts';
import { SsrfBlockedError, type GuardedDispatcher } from '../webhooks/ssrf/index.ts';
import { checkTargetUrl } from '../webhooks/ssrf/target-url.ts';
import type { CircuitBreakers, BreakerSpec } from './circuit-breaker.ts';
import { gatewayProblems } from './gateway-problems.ts';
import { StreamedBody } from './request-body.ts';
import { ForwardHandler, type ClientSink } from './forward-handler.ts';

/** RFC 9110 §9.2.2: repeating these has the effect of one; POST and PATCH are never retried. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Statuses that say "not processed, try again" (a 500 may have done half the work). */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

export type UpstreamCall = {
  /**
   * Whose call this is. Circuits are per tenant and upstream origin: any tenant may point an
   * API at any origin, with its own breaker settings, and must not open another tenant's.
   */
  tenant: string;
  /** The upstream's base URL, as stored in the dictionary. */
  upstream: string;
  /** Path (starting with "/") and query to append to the base URL's path. */
  pathAndQuery: string;
  method: string;
  headers: Record<string, string>;
  /** Whole (resent on a retry), or streamed as it arrives (sent once). */
  body: Buffer | StreamedBody | undefined;
  timeoutMs: number;
  retries: number;
  breaker: BreakerSpec | undefined;
};

export type UpstreamResponse = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  attempts: number;
};

/** Statuses whose answer has no body, whatever its head says (RFC 9110 §6.4.1). */
const NO_BODY = new Set([204, 304]);

/** forward()'s answer: streamed to the client, or an error answer to make a problem of. */
export type ForwardResult =
  | { status: number; streamed: true; attempts: number }
  | {
      status: number;
      streamed: false;
      headers: Record<string, string | string[]>;
      body: Buffer;
      attempts: number;
    };

export class UpstreamClient {
  readonly #dispatcher: GuardedDispatcher;
  readonly #breakers: CircuitBreakers;
  readonly #checked = new Map<string, URL>();

  constructor(dispatcher: GuardedDispatcher, breakers: CircuitBreakers) {
    this.#dispatcher = dispatcher;
    this.#breakers = breakers;
  }

  async call(call: UpstreamCall): Promise<UpstreamResponse> {
    const { key, streamed, attempts, request } = this.#plan(call);
    for (let attempt = 1; ; attempt++) {
      this.#admit(call, key);
      const last = attempt >= attempts;
      let response: Dispatcher.ResponseData;
      try {
        // A fresh options object per attempt: undici may keep what it is given.
        response = await this.#dispatcher.request({ ...request });
      } catch (error) {
        await this.#failed(error, call, key, streamed, last, attempt);
        continue;
      }
      this.#answered(call, key, response.statusCode);
      if (!last && RETRYABLE_STATUS.has(response.statusCode)) {
        await response.body.dump();
        await pause(attempt);
        continue;
      }
      return {
        status: response.statusCode,
        headers: response.headers,
        body: NO_BODY.has(response.statusCode) ? emptied(response.body) : response.body,
        attempts: attempt,
      };
    }
  }

  /**
   * call() for an answer that goes straight to the client: a final answer below 400 is
   * written to `sink` as it arrives (ForwardHandler); an error answer comes back with its
   * body read up to `maxErrorBody` bytes. Deadlines, retries and the breaker as in call().
   */
  async forward(
    call: UpstreamCall,
    sink: ClientSink,
    maxErrorBody: number,
  ): Promise<ForwardResult> {
    const { key, streamed, attempts, request } = this.#plan(call);
    for (let attempt = 1; ; attempt++) {
      this.#admit(call, key);
      const last = attempt >= attempts;
      const handler = new ForwardHandler(sink, last ? undefined : RETRYABLE_STATUS, maxErrorBody);
      let result;
      try {
        this.#dispatcher.dispatch({ ...request }, handler);
        result = await handler.settled;
      } catch (error) {
        // The sink refused the head (an invalid header): the hub's failure, not the upstream's;
        // nor is a client that left: no verdict on the upstream, and no further attempt.
        if (handler.sinkFailure !== undefined || handler.clientLeft) {
          if (call.breaker) this.#breakers.release(key);
          throw handler.clientLeft ? gatewayProblems.clientClosed() : handler.sinkFailure;
        }
        await this.#failed(error, call, key, streamed, last, attempt);
        continue;
      }
      this.#answered(call, key, result.status);
      if (result.kind === 'retry') {
        await pause(attempt);
        continue;
      }
      return result.kind === 'streamed'
        ? { status: result.status, streamed: true, attempts: attempt }
        : {
            status: result.status,
            streamed: false,
            headers: result.headers,
            body: result.body,
            attempts: attempt,
          };
    }
  }

  /** What every attempt of a call shares: where it goes and how often it may be tried. */
  #plan(call: UpstreamCall) {
    const base = this.#base(call.upstream);
    // A streamed body cannot be sent twice.
    const streamed = call.body instanceof StreamedBody ? call.body : undefined;
    const request: Dispatcher.DispatchOptions = {
      origin: base.origin,
      path: base.pathname.replace(/\/$/, '') + call.pathAndQuery,
      method: call.method as Dispatcher.HttpMethod,
      headers: call.headers,
      // undici sends async iterables (StreamedBody) as they yield; its types omit them.
      body: (call.body ?? null) as Buffer | null,
      // undici's own timers (no AbortSignal + timer per request): the deadline is for the
      // response headers, and then for each gap between body chunks.
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
    };
    const attempts = IDEMPOTENT.has(call.method) && !streamed ? 1 + call.retries : 1;
    return { key: `${call.tenant}\0${base.origin}`, streamed, attempts, request };
  }

  /** The circuit breaker's say before an attempt: an open circuit answers 503 at once. */
  #admit(call: UpstreamCall, key: string): void {
    const wait = call.breaker ? this.#breakers.admit(key) : undefined;
    if (wait !== undefined) throw gatewayProblems.circuitOpen(wait);
  }

  /** An answer from the upstream: a 5xx counts against its circuit, anything else for it. */
  #answered(call: UpstreamCall, key: string, status: number): void {
    if (!call.breaker) return;
    if (status >= 500) this.#breakers.failure(key, call.breaker);
    else this.#breakers.success(key);
  }

  /** A failed attempt: throws the problem to answer with, or pauses before the next one. */
  async #failed(
    error: unknown,
    call: UpstreamCall,
    key: string,
    streamed: StreamedBody | undefined,
    last: boolean,
    attempt: number,
  ): Promise<void> {
    if (error instanceof SsrfBlockedError) {
      if (call.breaker) this.#breakers.release(key);
      throw gatewayProblems.blocked();
    }
    // The caller's body was too large or broken off: not the upstream's failure.
    if (streamed?.failure) {
      if (call.breaker) this.#breakers.release(key);
      throw streamed.failure;
    }
    if (call.breaker) this.#breakers.failure(key, call.breaker);
    const code = (error as { code?: string }).code;
    const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    if (last)
      throw timedOut ? gatewayProblems.timeout(call.timeoutMs) : gatewayProblems.unreachable();
    await pause(attempt);
  }

  /** The static URL checks (scheme, credentials, literal addresses), once per upstream. */
  #base(upstream: string): URL {
    let url = this.#checked.get(upstream);
    if (url) return url;
    const check = checkTargetUrl(upstream, this.#dispatcher.allowHttp, this.#dispatcher.guard);
    if (!check.ok) throw gatewayProblems.blocked();
    url = check.url;
    if (this.#checked.size > 10_000) this.#checked.clear();
    this.#checked.set(upstream, url);
    return url;
  }
}

/**
 * An empty body in place of undici's for a 204 or 304: a 304 may carry the Content-Length of
 * the full representation (RFC 9110 §8.6), which undici reports as a length mismatch on the
 * body it then never gets; that must not fail an answer that is complete.
 */
function emptied(body: Readable): Readable {
  body.on('error', () => {});
  body.destroy();
  return Readable.from([]);
}

/**
 * The problem for an upstream answer that broke off while its body was being read (before
 * anything went to the client): the connection failed, or a gap between chunks passed the
 * deadline.
 */
export function bodyFailure(error: unknown, timeoutMs: number): ProblemError {
  if (error instanceof ProblemError) return error;
  return (error as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT'
    ? gatewayProblems.timeout(timeoutMs)
    : gatewayProblems.unreachable();
}

/** A short, jittered pause between attempts (the caller is waiting). */
function pause(attempt: number): Promise<void> {
  const ms = Math.min(1000, 50 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
