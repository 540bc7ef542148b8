/**
 * What a push connection needs from its wire: SSE over an HTTP response, or a WebSocket.
 * The connection (push-connection.ts) decides what to send; a transport only frames,
 * writes, reports how many bytes are still queued, and closes with a reason.
 */
import type { Writable } from 'node:stream';
import type { EncodedEvent } from './encoded-event.ts';

/** Why the hub ends a connection. Stable strings: they appear on the wire and in metrics. */
export const CloseReason = {
  /** The send queue passed its byte limit: the client reads too slowly. */
  slowConsumer: 'slow-consumer',
  /** The credential expired and was not refreshed. */
  tokenExpired: 'token-expired',
  /** The hub is shutting down (or restarting): reconnect and resume. */
  shutdown: 'shutdown',
  /** A WebSocket peer did not answer a ping within one heartbeat interval. */
  heartbeatTimeout: 'heartbeat-timeout',
  /** Reading the log for a replay failed. */
  replayFailed: 'replay-failed',
  /** The client went away. */
  clientClosed: 'client-closed',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

export interface Transport {
  readonly kind: 'sse' | 'ws';
  /**
   * Whether frames are complete on the wire, so that several may be joined into one Buffer
   * and written at once (see output-chain.ts). False where the library frames each send.
   */
  readonly joinable: boolean;
  /** Bytes accepted for sending that the peer has not taken yet (user-space buffers). */
  queuedBytes(): number;
  /** The frame for an event on this wire; cached per event and subscription-id list. */
  frameEvent(encoded: EncodedEvent, subscriptionIds: readonly string[], withId: boolean): Buffer;
  write(frame: Buffer): void;
  /**
   * Holds writes until `uncork`, so that the messages of one replay page leave in one
   * system call (live batches of joinable transports are joined instead: output-chain.ts).
   */
  cork(): void;
  uncork(): void;
  /**
   * Writes what corks hold now and leaves the socket corked exactly as deep as it was
   * (not at all: nothing to do). Every cork() must still be paired with one uncork().
   */
  flushCork(): void;
  /** A control message (`ready`, `reset`, `caught-up` …) with a JSON payload. */
  control(type: string, payload: Record<string, unknown>): void;
  /** Sends a keep-alive; returns false when the peer is known to be dead. */
  heartbeat(): boolean;
  /** Resolves once the queue is at or below `bytes`, or the transport closed. */
  drained(bytes: number): Promise<void>;
  /**
   * Ends the connection, telling the client why when the wire allows. Idempotent. Releases
   * any cork first, so the reason leaves now whoever holds one (later uncorks do nothing).
   */
  end(reason: CloseReason, detail: string): void;
  readonly closed: boolean;
  /** Called once when the underlying socket is gone, whoever closed it. */
  onClose(listener: () => void): void;
}

/**
 * After a graceful end, how long a peer that does not read gets to take the remaining
 * queue before the socket is destroyed. This is what frees the memory of a stuck client.
 */
export const END_GRACE_MS = 5_000;

/** Writes what a socket's corks hold and corks it again to the same depth. */
export function flushCork(socket: Writable): void {
  const depth = socket.writableCorked;
  if (depth === 0) return;
  for (let i = 0; i < depth; i++) socket.uncork();
  for (let i = 0; i < depth; i++) socket.cork();
}

/** Uncorks a socket fully (on end: what its holders meant to send goes now). */
export function releaseCork(socket: Writable): void {
  while (socket.writableCorked > 0) socket.uncork();
}
