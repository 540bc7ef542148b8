/**
 * A WebSocket (the `ws` library) as a push transport. `bufferedAmount` is the socket's
 * user-space queue plus frames the sender holds: the memory a slow reader pins.
 *
 * Event messages are pre-framed once per event (EncodedEvent.wsFrame) and written straight
 * to the socket, as socket.io's broadcast does through ws's sender: with permessage-deflate
 * off (the server disables it) ws writes every frame synchronously in call order, so frames
 * written here interleave with its own (pings, control messages, close) at frame
 * boundaries. Should a future ws hide its socket, this falls back to `ws.send` per message.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { EncodedEvent } from './encoded-event.ts';
import { CloseReason, END_GRACE_MS, flushCork, releaseCork, type Transport } from './transport.ts';

/** Close codes (RFC 6455 §7.4; 4000-4999 are the application's). */
export const WsCloseCode = {
  /** The hub is restarting: reconnect, resubscribe with `from`. */
  serviceRestart: 1012,
  internalError: 1011,
  tokenExpired: 4001,
  slowConsumer: 4008,
  heartbeatTimeout: 4009,
} as const;

const CODES: Record<CloseReason, number> = {
  [CloseReason.shutdown]: WsCloseCode.serviceRestart,
  [CloseReason.slowConsumer]: WsCloseCode.slowConsumer,
  [CloseReason.tokenExpired]: WsCloseCode.tokenExpired,
  [CloseReason.heartbeatTimeout]: WsCloseCode.heartbeatTimeout,
  [CloseReason.replayFailed]: WsCloseCode.internalError,
  [CloseReason.clientClosed]: 1000,
};

const SEND_OPTIONS = { binary: false, compress: false } as const;
const DRAIN_POLL_MS = 5;

export class WsTransport implements Transport {
  readonly kind = 'ws' as const;
  readonly joinable: boolean;
  readonly #ws: WebSocket;
  #closed = false;
  #ended = false;
  #alive = true;
  readonly #listeners: Array<() => void> = [];

  /** The underlying socket, when ws exposes it (see the module comment). */
  readonly #socket: Socket | undefined;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    const socket = (ws as unknown as { _socket?: unknown })._socket;
    this.#socket = isSocket(socket) ? socket : undefined;
    // Pre-framed frames can be joined; ws.send frames each message itself.
    this.joinable = this.#socket !== undefined;
    ws.on('pong', () => {
      this.#alive = true;
    });
    ws.on('close', () => {
      this.#closed = true;
      for (const listener of this.#listeners.splice(0)) listener();
    });
    // Socket errors are followed by 'close'; without a listener they would throw.
    ws.on('error', () => {});
  }

  get closed(): boolean {
    return this.#closed || this.#ended || this.#ws.readyState !== this.#ws.OPEN;
  }

  queuedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  frameEvent(encoded: EncodedEvent, subscriptionIds: readonly string[]): Buffer {
    return this.#socket ? encoded.wsFrame(subscriptionIds) : encoded.ws(subscriptionIds);
  }

  write(frame: Buffer): void {
    if (this.closed) return;
    if (this.#socket) this.#socket.write(frame);
    else this.#ws.send(frame, SEND_OPTIONS);
  }

  cork(): void {
    this.#socket?.cork();
  }

  uncork(): void {
    this.#socket?.uncork();
  }

  flushCork(): void {
    if (this.#socket) flushCork(this.#socket);
  }

  control(type: string, payload: Record<string, unknown>): void {
    if (!this.closed) this.#ws.send(JSON.stringify({ type, ...payload }), SEND_OPTIONS);
  }

  heartbeat(): boolean {
    if (this.closed) return !this.#closed;
    if (!this.#alive) return false;
    this.#alive = false;
    this.#ws.ping();
    return true;
  }

  async drained(bytes: number): Promise<void> {
    // `ws` has no drain event of its own; this runs only while a replay is throttled.
    while (!this.closed && this.#ws.bufferedAmount > bytes)
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }

  end(reason: CloseReason, detail: string): void {
    if (this.closed) return;
    this.#ended = true;
    // The close frame must not wait behind a cork: a holder that is waiting for the peer
    // would keep it (and the peer would see 1006 at the end grace instead of the code).
    if (this.#socket) releaseCork(this.#socket);
    if (reason === CloseReason.heartbeatTimeout) {
      this.#ws.terminate(); // the peer is not answering: a close handshake would only wait
      return;
    }
    // Close reasons are limited to 123 bytes by the protocol.
    this.#ws.close(CODES[reason], truncateUtf8(`${reason}: ${detail}`, 123));
    const destroy = setTimeout(() => this.#ws.terminate(), END_GRACE_MS);
    destroy.unref();
    this.onClose(() => clearTimeout(destroy));
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#listeners.push(listener);
  }
}

function truncateUtf8(text: string, maxBytes: number): string {
  let out = text;
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, -1);
  return out;
}

function isSocket(value: unknown): value is Socket {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Socket).write === 'function' &&
    typeof (value as Socket).cork === 'function' &&
    typeof (value as Socket).uncork === 'function'
  );
}
