/**
 * The leader tab's side of push: keeps one hub connection open for the subscriptions every
 * tab wants, reconnects with backoff and a fresh ticket, resuming after the last position
 * this tab saw, and marks the messages of a `last: N` replay as replayed.
 */
import { backoffDelay, type BackoffSettings } from './backoff.ts';
import { openSseLink } from './sse-link.ts';
import { retryAfterOf } from './stream-ticket.ts';
import {
  isRefusal,
  type HubLink,
  type HubSpec,
  type LinkOptions,
  type WireMessage,
} from './wire.ts';
import { openWsLink } from './ws-link.ts';

/**
 * A connection must stay open this long before its end counts as a fresh start (backoff from
 * the first step again). A hub or proxy that accepts and at once drops the stream would
 * otherwise be asked again every few hundred milliseconds, by every page, for ever.
 */
export const STABLE_CONNECTION_MS = 10_000;

/**
 * A connection whose hub has not said `ready` (SSE) or `welcome` (WebSocket) this long after
 * it was asked for (ticket included) is given up and asked again, with backoff: a hub or a
 * buffering proxy that opens the stream and then says nothing would leave it connecting.
 */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

/** The longest `Retry-After` of a stream ticket answer the reconnect waits for. */
export const MAX_RETRY_AFTER_MS = 300_000;

/**
 * `once`: a one-shot replay (late-replay.ts). It exists for its `last` replay, so a new
 * connection that resumes after a position adds it with its `last` again, not resumed.
 */
export type Wanted = { spec: HubSpec; last?: number; once?: true };

export type HubSessionOptions = {
  hub: string;
  getToken: () => string | Promise<string>;
  transport: 'sse' | 'ws';
  backoff: () => BackoffSettings | undefined;
  /** The position to resume after (the newest this tab has seen), if any. */
  resumeFrom: () => number | undefined;
  onMessage(message: WireMessage): void;
  onState(state: 'connecting' | 'open' | 'closed'): void;
  /** The connection opened: everything after `position` reaches it. */
  onOpen(position: number | undefined): void;
  /**
   * These subscriptions' replays are done (the hub's `caught-up`); `exhausted`: those whose
   * `last` replay sent fewer than asked (the log holds no other match), with the count.
   */
  onCaughtUp(ids: string[], exhausted: Array<[string, number]>): void;
};

export class HubSession {
  readonly #options: HubSessionOptions;
  #desired = new Map<string, Wanted>();
  /**
   * Subscriptions the hub refused (an invalid filter, a forbidden topic): left off every
   * later connection. On SSE a resumed connection names its subscriptions in its URL, and one
   * the hub refuses there fails the whole stream, for every micro-frontend of every tab.
   * Asked again once no tab wants it any more and one wants it anew.
   */
  #refused = new Set<string>();
  /**
   * Subscriptions the hub has accepted (SSE: only these go in a connect URL, the others join
   * one by one after `ready`, so that one the hub refuses cannot fail the stream).
   */
  #proven = new Set<string>();
  /** Subscriptions on the current link. */
  #onLink = new Set<string>();
  /**
   * Subscriptions that joined the current link resumed after a position (each its own replay
   * on the hub, e.g. every WebSocket one, or an SSE one not in the URL), with that position,
   * until their `caught-up`: another subscription's live messages may come first and move
   * this tab's newest position past what they still owe, so a reconnect meanwhile must
   * resume from there.
   */
  #resuming = new Map<string, number>();
  /**
   * Subscriptions whose `last` replay is still running (their messages are replays), each
   * with the position this tab had seen when it joined: the hub holds that subscription's
   * live events until the replay ends, so a reconnect meanwhile must resume from there.
   */
  #replaying = new Map<string, number | undefined>();
  /** Running `last` replays: how many were asked, how many messages came. */
  #lastReplays = new Map<string, { last: number; got: number }>();
  #link: HubLink | undefined;
  #attempt = 0;
  /** When the current link opened (undefined until it does). */
  #openedAt: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Gives up on a connection whose hub says nothing (HANDSHAKE_TIMEOUT_MS). */
  #handshake: ReturnType<typeof setTimeout> | undefined;
  /** Counts connection attempts: one given up must not take over when it answers late. */
  #connecting = 0;
  /** The attempt in progress (its ticket request): aborted when it is given up. */
  #attemptAbort: AbortController | undefined;
  #closed = false;

  constructor(options: HubSessionOptions) {
    this.#options = options;
  }

  start(): void {
    this.#options.onState('connecting');
    void this.#connect();
  }

  /** The subscriptions all tabs want now; the connection is brought in line. */
  setDesired(desired: Map<string, Wanted>): void {
    this.#desired = desired;
    for (const id of this.#refused) if (!desired.has(id)) this.#refused.delete(id);
    for (const id of this.#proven) if (!desired.has(id)) this.#proven.delete(id);
    this.#reconcile();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#handshake);
    this.#attemptAbort?.abort();
    this.#link?.close();
    this.#link = undefined;
    this.#options.onState('closed');
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const attempt = ++this.#connecting;
    this.#attemptAbort?.abort();
    const abort = (this.#attemptAbort = new AbortController());
    clearTimeout(this.#handshake);
    this.#handshake = setTimeout(() => this.#giveUp(attempt), HANDSHAKE_TIMEOUT_MS);
    const from = this.#resumePosition();
    const initial = [...this.#desired.values()]
      .filter((w) => (from === undefined || !w.once) && !this.#refused.has(w.spec.id))
      .map((w) => ({ ...w, proven: this.#proven.has(w.spec.id) }));
    const options: LinkOptions = {
      hub: this.#options.hub,
      getToken: this.#options.getToken,
      initial,
      from,
      signal: abort.signal,
      events: {
        open: (position) => {
          if (link !== this.#link) return;
          clearTimeout(this.#handshake);
          // Those it started with resumed after `position`: until its caught-up, each owes
          // what came after it. (The last link's floors stay until now: one that failed
          // before it opened resumes from the same position.)
          this.#resuming = new Map();
          if (position !== undefined)
            for (const { spec } of initial)
              if (this.#onLink.has(spec.id) && !this.#replaying.has(spec.id))
                this.#resuming.set(spec.id, position);
          this.#openedAt = Date.now();
          this.#options.onOpen(position);
          this.#options.onState('open');
        },
        message: (message) => {
          if (message.subscriptions.every((id) => this.#replaying.has(id))) {
            message.replayed = true;
            for (const id of message.subscriptions) {
              const counted = this.#lastReplays.get(id);
              if (counted) counted.got++;
            }
          }
          this.#options.onMessage(message);
        },
        caughtUp: (ids) => {
          const exhausted: Array<[string, number]> = [];
          for (const id of ids) {
            this.#replaying.delete(id);
            this.#resuming.delete(id);
            const counted = this.#lastReplays.get(id);
            if (counted && counted.got < counted.last) exhausted.push([id, counted.got]);
            this.#lastReplays.delete(id);
          }
          this.#options.onCaughtUp(ids, exhausted);
        },
        accepted: (id) => {
          if (link === this.#link && this.#onLink.has(id)) this.#proven.add(id);
        },
        refused: (id, error) => {
          if (link === this.#link) this.#refuse(id, error);
        },
        closed: () => this.#retry(link),
      },
    };
    let link: HubLink | undefined;
    try {
      link = await (this.#options.transport === 'ws' ? openWsLink : openSseLink)(options);
    } catch (error) {
      if (attempt === this.#connecting) this.#retry(undefined, retryAfterOf(error));
      return;
    }
    if (this.#closed || attempt !== this.#connecting) {
      link.close();
      return;
    }
    this.#link = link;
    this.#onLink = new Set(initial.map((w) => w.spec.id));
    this.#replaying = new Map(
      from === undefined
        ? initial.filter((w) => w.last !== undefined).map((w) => [w.spec.id, undefined])
        : [],
    );
    this.#lastReplays = new Map(
      from === undefined
        ? initial.flatMap((w) => (w.last ? [[w.spec.id, { last: w.last, got: 0 }]] : []))
        : [],
    );
    this.#reconcile();
  }

  /** The newest position seen, or earlier while a `last` replay holds events back. */
  #resumePosition(): number | undefined {
    let from = this.#options.resumeFrom();
    for (const floor of [...this.#replaying.values(), ...this.#resuming.values()])
      if (floor !== undefined && from !== undefined) from = Math.min(from, floor);
    return from;
  }

  /** The hub has not answered the connection attempt in time: a fresh one, with backoff. */
  #giveUp(attempt: number): void {
    if (this.#closed || attempt !== this.#connecting || this.#openedAt !== undefined) return;
    const link = this.#link;
    this.#connecting++; // a ticket or link that answers after this is closed at once
    this.#attemptAbort?.abort(); // a hung ticket request holds a connection of the page's
    link?.close();
    console.warn(
      `[portico shell] the hub did not accept the ${this.#options.transport === 'ws' ? 'WebSocket' : 'SSE'} connection within ${HANDSHAKE_TIMEOUT_MS / 1000} s; connecting again`,
    );
    this.#retry(link);
  }

  /** `retryAfterMs`: the hub asked to wait at least this long (a ticket's 429/503). */
  #retry(failed: HubLink | undefined, retryAfterMs?: number): void {
    if (this.#closed || (failed !== undefined && failed !== this.#link)) return;
    this.#link = undefined;
    clearTimeout(this.#handshake);
    this.#options.onState('connecting');
    if (this.#openedAt !== undefined && Date.now() - this.#openedAt >= STABLE_CONNECTION_MS)
      this.#attempt = 0;
    this.#openedAt = undefined;
    clearTimeout(this.#timer);
    const delay = Math.max(
      backoffDelay(this.#attempt++, this.#options.backoff()),
      Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS),
    );
    this.#timer = setTimeout(() => void this.#connect(), delay);
  }

  #refuse(id: string, error: unknown): void {
    if (!this.#desired.has(id) || this.#refused.has(id)) return;
    this.#refused.add(id);
    this.#onLink.delete(id);
    this.#replaying.delete(id);
    this.#resuming.delete(id);
    this.#lastReplays.delete(id);
    console.error(
      `[portico shell] the hub refused the subscription ${JSON.stringify(this.#desired.get(id)!.spec)}; it stays off the connection until it is subscribed anew`,
      error,
    );
  }

  #reconcile(): void {
    const link = this.#link;
    if (!link) return; // the next connection starts with the desired set
    for (const [id, wanted] of this.#desired) {
      if (this.#onLink.has(id) || this.#refused.has(id)) continue;
      this.#onLink.add(id);
      if (wanted.last !== undefined) {
        this.#replaying.set(id, this.#options.resumeFrom());
        this.#lastReplays.set(id, { last: wanted.last, got: 0 });
      }
      link.add(wanted.spec, wanted.last !== undefined ? { last: wanted.last } : {}).then(
        () => {
          if (this.#link === link && this.#onLink.has(id)) this.#proven.add(id);
        },
        (error: unknown) => {
          if (this.#link !== link) return;
          if (isRefusal(error)) this.#refuse(id, error);
          else this.#onLink.delete(id); // transient (429, 5xx, network): asked again later
        },
      );
    }
    for (const id of this.#onLink) {
      if (this.#desired.has(id)) continue;
      this.#onLink.delete(id);
      this.#replaying.delete(id);
      this.#resuming.delete(id);
      this.#lastReplays.delete(id);
      void link.remove(id).catch(() => {});
    }
  }
}
