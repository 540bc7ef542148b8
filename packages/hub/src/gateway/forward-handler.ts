/**
 * One attempt of a forwarded upstream call, as an undici dispatch handler: a final answer
 * below 400 is written straight to the client's response as its chunks arrive (no response
 * stream, pipe or parsed-headers object in between; backpressure by pausing the upstream
 * read while the client's socket drains). An error answer is collected, capped, for the
 * problem the gateway makes of it; a retryable one, when another attempt follows, is
 * drained and dropped. A client that leaves at any point aborts the upstream call.
 * Failures before the answer reject `settled`; after the head has gone to the client they
 * break the client's connection off, as a failed response stream does.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { clientHeadersFromRaw } from './forward-headers.ts';

/** Where a forwarded answer below 400 goes: its head is written here, then its body. */
export type ClientSink = {
  /**
   * The client's response. When it closes before the answer is through, the upstream call
   * is aborted: nobody is waiting for it, and a body written to a closed response would
   * wait for a 'drain' that never comes, holding the upstream connection.
   */
  readonly response: ServerResponse;
  /**
   * Writes the head (client-bound headers, framing kept) to `response`. If it throws, the
   * upstream call is aborted and the attempt rejects with it.
   */
  start(status: number, headers: Record<string, string | string[]>): void;
};

export type AttemptResult =
  /** The answer is on its way to the client. */
  | { kind: 'streamed'; status: number }
  /** An error answer (400 and up), its body read up to the cap. */
  | { kind: 'error'; status: number; headers: Record<string, string | string[]>; body: Buffer }
  /** A retryable status with attempts left: dropped. */
  | { kind: 'retry'; status: number };

/** A dropped answer's body is read this far to keep the connection, then cut off. */
const MAX_DRAINED = 128 * 1024;

const STREAM = 1;
const COLLECT = 2;
const DISCARD = 3;

export class ForwardHandler implements Dispatcher.DispatchHandler {
  readonly settled: Promise<AttemptResult>;
  readonly #sink: ClientSink;
  readonly #retryStatus: ReadonlySet<number> | undefined;
  readonly #maxErrorBody: number;
  #resolve!: (result: AttemptResult) => void;
  #reject!: (error: Error) => void;
  #done = false;
  #abort: ((error?: Error) => void) | undefined;
  #mode = 0;
  #status = 0;
  #headers: Record<string, string | string[]> | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  #complete = false;
  /** What the sink threw, if it refused the head. */
  sinkFailure: unknown;
  /** The client closed its connection before the answer was through. */
  clientLeft = false;

  /** `retryStatus`: statuses to drop for another attempt (absent on the last attempt). */
  constructor(
    sink: ClientSink,
    retryStatus: ReadonlySet<number> | undefined,
    maxErrorBody: number,
  ) {
    this.#sink = sink;
    this.#retryStatus = retryStatus;
    this.#maxErrorBody = maxErrorBody;
    this.settled = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  onConnect(abort: (error?: Error) => void): void {
    this.#abort = abort;
    const res = this.#sink.response;
    if (res.destroyed) this.#onClientClose();
    else res.once('close', this.#onClientClose);
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // informational: the final answer follows
    this.#status = status;
    if (this.#retryStatus?.has(status)) {
      this.#mode = DISCARD;
      return true;
    }
    if (status >= 400) {
      this.#mode = COLLECT;
      this.#headers = clientHeadersFromRaw(raw, false);
      return true;
    }
    try {
      this.#sink.start(status, clientHeadersFromRaw(raw, true));
    } catch (error) {
      this.sinkFailure = error;
      this.#settle(undefined, error as Error);
      this.#abort?.(error as Error);
      return false;
    }
    this.#mode = STREAM;
    this.#resumeUpstream = resume;
    this.#settle({ kind: 'streamed', status });
    if (status === 204 || status === 304) {
      // No body, whatever the head says: the answer is through. A 304 may carry the
      // Content-Length of the full representation (RFC 9110 §8.6), which undici then reports
      // as a length mismatch; that must not break off the client's (already sent) answer.
      this.#finish();
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#mode === STREAM) {
      if (this.#sink.response.write(chunk)) return true;
      this.#sink.response.once('drain', this.#resumeUpstream!);
      return false;
    }
    if (this.#mode === COLLECT) {
      const room = this.#maxErrorBody - this.#size;
      this.#chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      this.#size += Math.min(chunk.length, room);
      if (this.#size >= this.#maxErrorBody) {
        this.#collected();
        this.#abort?.(new Error('the error body is past the cap'));
        return false;
      }
    } else if (this.#mode === DISCARD) {
      this.#size += chunk.length;
      if (this.#size > MAX_DRAINED) {
        this.#settle({ kind: 'retry', status: this.#status });
        this.#abort?.(new Error('the dropped body is too long'));
        return false;
      }
    }
    return true;
  }

  onComplete(): void {
    if (this.#complete) return;
    if (this.#mode === STREAM) return this.#finish();
    this.#complete = true;
    this.#sink.response.off('close', this.#onClientClose);
    if (this.#mode === COLLECT) this.#collected();
    else this.#settle({ kind: 'retry', status: this.#status });
  }

  /** The streamed answer is complete: the client's response ends. */
  #finish(): void {
    this.#complete = true;
    this.#sink.response.off('close', this.#onClientClose);
    this.#sink.response.end();
  }

  onError(error: Error): void {
    this.#sink.response.off('close', this.#onClientClose);
    if (!this.#done) this.#settle(undefined, error);
    else if (this.#mode === STREAM && !this.#complete) this.#sink.response.destroy(error);
  }

  #resumeUpstream: (() => void) | undefined;

  readonly #onClientClose = (): void => {
    if (this.#complete) return;
    this.clientLeft = true;
    this.#abort?.(new Error('the client closed the connection'));
  };

  #collected(): void {
    this.#settle({
      kind: 'error',
      status: this.#status,
      headers: this.#headers!,
      body: this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks),
    });
  }

  #settle(result: AttemptResult | undefined, error?: Error): void {
    if (this.#done) return;
    this.#done = true;
    if (result) this.#resolve(result);
    else this.#reject(error!);
  }
}
