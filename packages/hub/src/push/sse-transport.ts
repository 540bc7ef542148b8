/**
 * Server-Sent Events on a raw HTTP response (the route hijacks it from Fastify).
 * `res.writableLength` counts both the response's and the socket's user-space buffers,
 * which is exactly the memory a slow reader pins.
 *
 * Once the response owns its socket (`res.socket` is set: it is the connection's current
 * response, its head already handed to the socket), messages are written to the socket
 * directly. The stream has no chunked framing (see the constructor), so the bytes are the
 * same, and a write skips ServerResponse's per-write cork and next-tick uncork. Before that
 * (a pipelined request waiting its turn) they go through `res.write`, which queues them.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { EncodedEvent } from './encoded-event.ts';
import { CloseReason, END_GRACE_MS, flushCork, releaseCork, type Transport } from './transport.ts';

const HEARTBEAT = Buffer.from(':\n\n');

export class SseTransport implements Transport {
  readonly kind = 'sse' as const;
  readonly joinable = true;
  readonly #res: ServerResponse;
  /** The connection's socket, also while the response waits its turn (res.socket is null). */
  readonly #connection: Socket;
  #closed = false;
  #ended = false;
  readonly #listeners: Array<() => void> = [];
  /** Removable close callbacks (a `drained` wait), unlike the one-shot `onClose` listeners. */
  readonly #closeWaiters = new Set<() => void>();

  constructor(res: ServerResponse, options: { retryMs: number; requestId?: string }) {
    this.#res = res;
    this.#connection = res.req.socket;
    const closed = () => {
      if (this.#closed) return;
      this.#closed = true;
      this.#connection.off('close', closed);
      for (const waiter of [...this.#closeWaiters]) waiter();
      for (const listener of this.#listeners.splice(0)) listener();
    };
    res.on('close', closed);
    // A response queued behind another on a pipelined connection gets no 'close' when the
    // connection goes (Node emits it only for the socket's current response): without the
    // socket's own, such a stream would hold its slot, and the shutdown drain, forever.
    this.#connection.on('close', closed);
    // A write to a socket the peer reset surfaces here; 'close' follows and cleans up.
    res.on('error', () => {});
    res.socket?.setNoDelay(true);
    // No chunked framing: the stream is the connection's last response (connection: close),
    // so its end is the end of the body (RFC 9112 §6.3), and each message is one buffer on
    // the wire instead of four (size, CRLF, data, CRLF).
    res.removeHeader('transfer-encoding');
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // A stream is the connection's last response: when it ends, the socket goes too.
      connection: 'close',
      // Proxies such as nginx buffer responses unless told not to.
      'x-accel-buffering': 'no',
      ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
    });
    // The retry hint: how long EventSource waits before reconnecting.
    res.write(`retry: ${options.retryMs}\n\n`);
  }

  get closed(): boolean {
    return this.#closed || this.#ended;
  }

  queuedBytes(): number {
    return this.#res.writableLength;
  }

  frameEvent(encoded: EncodedEvent, subscriptionIds: readonly string[], withId: boolean): Buffer {
    return encoded.sse(subscriptionIds, withId);
  }

  write(frame: Buffer): void {
    if (!this.closed) this.#write(frame);
  }

  #write(data: Buffer | string): void {
    const socket = this.#res.socket;
    if (socket) socket.write(data);
    else this.#res.write(data);
  }

  // The socket's cork, not the response's: ServerResponse.uncork() re-sends its held chunks
  // one system call each, while a corked socket flushes everything in one writev.
  cork(): void {
    this.#res.socket?.cork();
  }

  uncork(): void {
    this.#res.socket?.uncork();
  }

  flushCork(): void {
    if (this.#res.socket) flushCork(this.#res.socket);
  }

  control(type: string, payload: Record<string, unknown>): void {
    if (!this.closed) this.#write(`event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  heartbeat(): boolean {
    // A comment line keeps proxies and the browser from timing the stream out; when bytes
    // are already queued the stream is not idle and the comment would only add to them.
    if (!this.closed && this.#res.writableLength === 0) this.#write(HEARTBEAT);
    return !this.#closed;
  }

  async drained(bytes: number): Promise<void> {
    while (!this.closed && this.#res.writableLength > bytes) {
      // Direct writes fill the socket, so its 'drain' is the one to wait for.
      const source = this.#res.socket ?? this.#res;
      await new Promise<void>((resolve) => {
        const done = () => {
          source.off('drain', done);
          this.#closeWaiters.delete(done);
          resolve();
        };
        source.on('drain', done);
        this.#closeWaiters.add(done);
      });
    }
  }

  end(reason: CloseReason, detail: string): void {
    if (this.closed) return;
    // The reason must not wait behind a cork whose holder is waiting for the peer.
    if (this.#res.socket) releaseCork(this.#res.socket);
    if (reason !== CloseReason.clientClosed) {
      const event = reason === CloseReason.tokenExpired ? 'expired' : 'reconnect';
      this.#write(`event: ${event}\ndata: ${JSON.stringify({ reason, detail })}\n\n`);
    }
    this.#ended = true;
    this.#res.end();
    const destroy = setTimeout(() => this.#res.destroy(), END_GRACE_MS);
    destroy.unref();
    this.onClose(() => clearTimeout(destroy));
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#listeners.push(listener);
  }
}
