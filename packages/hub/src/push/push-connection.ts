/**
 * One client connection (SSE or WebSocket): its principal, its subscriptions, its replays
 * in progress, and the decisions about each message: send now, hand to a replay's buffer,
 * drop as a seam duplicate, or give up on a reader that cannot keep up.
 *
 * SSE `id:` lines. The browser sends back the last `id:` it saw as `Last-Event-ID`, and
 * the hub replays the connection's connect-time subscriptions after it. So an `id:` may
 * only go out when every connect-time subscription has been sent everything at or below
 * it: during the connect-time replay only its own (ascending) messages carry one; after
 * it, a message carries one when its position is above the last id sent. Messages of a
 * subscription added later with its own `from` (positions below ids already sent) carry
 * none; clients resume those with the `position` in each message (see README).
 */
import type { Principal } from '../auth/principal.ts';
import type { EncodedEvent } from './encoded-event.ts';
import type { OutputChain } from './output-chain.ts';
import type { PushStats } from './push-stats.ts';
import type { ReplayJob } from './replay-job.ts';
import type { Subscription } from './subscription.ts';
import { CloseReason, type Transport } from './transport.ts';

/** What a connection needs from the gateway that owns it. */
export type ConnectionHost = {
  readonly maxQueueBytes: number;
  readonly stats: PushStats;
  /** The connection ended (any reason): release its subscriptions and its slot. */
  connectionClosed(connection: PushConnection, reason: CloseReason): void;
};

/** setTimeout's limit; longer delays are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Warn the client this long before its credential expires (at most half its lifetime). */
const EXPIRY_WARNING_MS = 60_000;

export class PushConnection {
  readonly id: string;
  readonly tenant: string;
  readonly subject: string;
  readonly transport: Transport;
  readonly subscriptions = new Map<string, Subscription>();
  readonly jobs = new Set<ReplayJob>();
  #principal: Principal;
  readonly #host: ConnectionHost;
  #closedBy: CloseReason | undefined;
  #primaryLive = true;
  #lastId = 0;
  #expiryTimer: NodeJS.Timeout | undefined;

  /** Scratch for the dispatcher: which event last touched this connection, with which subs. */
  stamp = 0;
  readonly matched: Subscription[] = [];
  /** Whether any of `matched` has a content filter. */
  matchedFiltered = false;
  /** The dispatch batch that last touched this connection (see beginBatch). */
  batch = 0;
  /** During a dispatch batch on a joinable transport: what is to be written at its end. */
  #pending: OutputChain | undefined;
  #batchRoot: OutputChain | undefined;

  constructor(options: {
    id: string;
    principal: Principal;
    transport: Transport;
    host: ConnectionHost;
    now?: () => number;
  }) {
    this.id = options.id;
    this.#principal = options.principal;
    this.tenant = options.principal.tenant;
    this.subject = options.principal.subject;
    this.transport = options.transport;
    this.#host = options.host;
    this.transport.onClose(() =>
      this.close(CloseReason.clientClosed, 'the client closed the connection'),
    );
    this.#armExpiry(options.now ?? Date.now);
  }

  get principal(): Principal {
    return this.#principal;
  }

  get closed(): boolean {
    return this.#closedBy !== undefined;
  }

  get closedBy(): CloseReason | undefined {
    return this.#closedBy;
  }

  /** Replaces the credential (same tenant and subject, checked by the gateway). */
  refresh(principal: Principal, now: () => number = Date.now): void {
    this.#principal = principal;
    this.#armExpiry(now);
  }

  /** The connect-time replay is running: withhold SSE ids from everything else. */
  primaryReplayStarted(): void {
    this.#primaryLive = false;
  }

  primaryReplayFinished(): void {
    this.#primaryLive = true;
  }

  /** A live event matched `subs` (all of this connection). The array is scratch: not kept. */
  deliverLive(encoded: EncodedEvent, subs: readonly Subscription[]): void {
    if (subs.length === 1) {
      // The common case (one subscription matched) without building an id list.
      const sub = subs[0]!;
      if (sub.replay) sub.replay.buffer(encoded, sub);
      else if (encoded.position > sub.seam)
        this.#send(encoded, sub.idList, this.#primaryLive, 'live');
      return;
    }
    let live: string[] | undefined;
    for (const sub of subs) {
      if (sub.replay) sub.replay.buffer(encoded, sub);
      else if (encoded.position > sub.seam) (live ??= []).push(sub.id);
    }
    if (live) this.#send(encoded, live, this.#primaryLive, 'live');
  }

  /** A replayed (or replay-buffered) event; false when the connection is gone. */
  sendReplayed(encoded: EncodedEvent, subscriptionIds: readonly string[], job: ReplayJob): boolean {
    return this.#send(encoded, subscriptionIds, job.primary, 'replay');
  }

  /**
   * A dispatch batch starts: live messages are collected on `root`'s chain (shared with the
   * batch's other connections) and written as one Buffer by endBatch. Transports whose
   * frames cannot be joined are corked instead.
   */
  beginBatch(root: OutputChain): void {
    if (this.transport.joinable) {
      this.#batchRoot = root;
      this.#pending = root;
    } else this.transport.cork();
  }

  endBatch(): void {
    if (this.#batchRoot === undefined) {
      this.transport.uncork();
      return;
    }
    this.#flush();
    this.#pending = undefined;
    this.#batchRoot = undefined;
  }

  control(type: string, payload: Record<string, unknown>): void {
    if (this.closed) return;
    this.#flush(); // messages keep their order
    // Replies count against the send queue like events: a client that keeps sending
    // requests (an invalid message answers with an error as long as the message) and never
    // reads would otherwise grow the queue without bound.
    if (this.transport.queuedBytes() > this.#host.maxQueueBytes) {
      this.#host.stats.drop(CloseReason.slowConsumer);
      this.close(
        CloseReason.slowConsumer,
        `the send queue passed ${this.#host.maxQueueBytes} bytes; reconnect and resume from the last position`,
      );
      return;
    }
    this.transport.control(type, payload);
  }

  close(reason: CloseReason, detail: string): void {
    if (this.#closedBy !== undefined) return;
    // What was accepted for sending goes before the reason.
    if (reason !== CloseReason.clientClosed) this.#flush();
    this.#pending = undefined;
    this.#batchRoot = undefined;
    this.#closedBy = reason;
    clearTimeout(this.#expiryTimer);
    this.transport.end(reason, detail);
    this.#host.connectionClosed(this, reason);
  }

  #send(
    encoded: EncodedEvent,
    subscriptionIds: readonly string[],
    idAllowed: boolean,
    kind: 'live' | 'replay',
  ): boolean {
    if (this.#closedBy !== undefined) return false;
    const transport = this.transport;
    const withId = transport.kind === 'sse' && idAllowed && encoded.position > this.#lastId;
    const frame = transport.frameEvent(encoded, subscriptionIds, withId);
    let queued = transport.queuedBytes() + (this.#pending?.bytes ?? 0);
    const { maxQueueBytes, stats } = this.#host;
    if (queued > 0 && queued + frame.length > maxQueueBytes) {
      // Part of the queue may only be held by this batch (pending) or by a replay's cork:
      // let it go to the socket first, then judge what the peer has really not taken. The
      // cork is released and restored only as deep as it was: corking a socket nobody had
      // corked would hold everything after, the close frame included, until the end grace.
      if (this.#pending !== undefined) this.#flush();
      transport.flushCork();
      queued = transport.queuedBytes();
    }
    // An idle connection always takes one message, however large: the limit bounds the
    // backlog, and a single event is already bounded by events.maxEventBytes.
    if (queued > 0 && queued + frame.length > maxQueueBytes) {
      stats.drop(CloseReason.slowConsumer);
      this.close(
        CloseReason.slowConsumer,
        `the send queue would exceed ${maxQueueBytes} bytes; reconnect and resume from the last position`,
      );
      return false;
    }
    if (this.#pending !== undefined) this.#pending = this.#pending.then(frame);
    else transport.write(frame);
    if (withId) this.#lastId = encoded.position;
    stats.messagesSent[kind]++;
    if (queued + frame.length > stats.queuePeakBytes) stats.queuePeakBytes = queued + frame.length;
    return true;
  }

  /** Writes what the current batch collected so far (one Buffer) and starts collecting anew. */
  #flush(): void {
    const pending = this.#pending;
    if (pending === undefined || pending.bytes === 0) return;
    this.#pending = this.#batchRoot;
    this.transport.write(pending.joined());
  }

  #armExpiry(now: () => number): void {
    clearTimeout(this.#expiryTimer);
    const expiresAtMs = this.#principal.expiresAt * 1000;
    const remaining = expiresAtMs - now();
    const warnAt = expiresAtMs - Math.min(EXPIRY_WARNING_MS, remaining / 2);
    const schedule = (at: number, fire: () => void) => {
      const delay = at - now();
      this.#expiryTimer = setTimeout(
        () => (delay > MAX_TIMER_MS ? schedule(at, fire) : fire()),
        Math.max(0, Math.min(delay, MAX_TIMER_MS)),
      );
      this.#expiryTimer.unref();
    };
    const expire = () =>
      this.close(CloseReason.tokenExpired, 'the credential expired; reconnect with a fresh one');
    if (remaining <= 0) {
      schedule(now(), expire);
      return;
    }
    schedule(warnAt, () => {
      this.control('expiring', { expiresAt: new Date(expiresAtMs).toISOString() });
      schedule(expiresAtMs, expire);
    });
  }
}
