/**
 * Push for one tab: the micro-frontends' subscriptions, and the tab's part in sharing one
 * hub connection among all tabs of the origin.
 *
 * - Every tab announces the hub subscriptions it wants on a BroadcastChannel; ids are
 *   derived from the pattern (hub-subscription-id.ts), so equal subscriptions of several
 *   micro-frontends or tabs are one entry on the hub.
 * - The tab holding the Web Lock leads: it runs the one HubSession for the union of all
 *   wants and forwards every message on the channel. All tabs, the leader too, handle a
 *   message the same way: remember it in a small per-subscription buffer, note its position,
 *   hand it to their own micro-frontends.
 * - When the leader closes, the next tab gets the lock and connects with `from` = the newest
 *   position it saw (every message went to every tab), so nothing is lost; a per-handler high
 *   water mark drops what is delivered twice at the seam.
 * - `replay: N`: when the subscription is already wanted somewhere, served from the buffer
 *   if it holds N, else by a one-shot hub subscription for that micro-frontend alone
 *   (late-replay.ts); otherwise, in the leader tab, the subscription joins the hub connection
 *   with `last: N`. Only the leader knows what is on the connection (another tab may not have
 *   heard every tab's wants yet), so a follower's replay is always a one-shot; so is one
 *   asked while the connection is being re-established (it will resume, not replay).
 * - A tab that crashes sends no `bye`: the leader learns it from the tab's Web Lock
 *   (tab-presence.ts) and drops its wants for it.
 */
import type { PushMessage, SubscribeOptions } from '../types.ts';
import type { BackoffSettings } from './backoff.ts';
import { hubSubscriptionId } from './hub-subscription-id.ts';
import { HubSession, type Wanted } from './hub-session.ts';
import { holdForReplay, mergeHeld, replayRequestId, type PendingReplay } from './late-replay.ts';
import { electLeader, type Election } from './leader-election.ts';
import { tabPresence, type TabPresence } from './tab-presence.ts';
import {
  openTabChannel,
  type ConnectionStateName,
  type TabChannel,
  type TabMessage,
} from './tab-channel.ts';
import type { WireMessage } from './wire.ts';

/** Messages kept per hub subscription for late micro-frontends (a larger `replay` asks the hub). */
const BUFFER_SIZE = 100;
/** A one-shot replay the hub refused or lost must not hold a micro-frontend's live events back for ever. */
const REPLAY_GIVE_UP_MS = 15_000;

export type PushClientOptions = {
  hub: string;
  getToken: () => string | Promise<string>;
  transport: 'sse' | 'ws';
  /** Names the lock and the channel; undefined = no sharing across tabs. */
  shareKey: string | undefined;
  backoff: () => BackoffSettings | undefined;
};

export type ConnectionView = { readonly state: ConnectionStateName; readonly leader: boolean };

type LocalSubscription = {
  id: string;
  mfeId: string;
  topic: string;
  filter: unknown;
  handler: (message: PushMessage) => void;
  /** The newest position handed to this handler: anything at or below is a duplicate. */
  seen: number;
  /** Whether it asked for a replay: a `last: N` replay is for those that did, only. */
  replay: boolean;
  /** Its own replay from the hub, running: messages are held until its `caught-up`. */
  pending?: PendingReplay;
  /** Ends a pending replay the hub refused or lost. */
  giveUp?: ReturnType<typeof setTimeout>;
};

export class PushClient {
  readonly #options: PushClientOptions;
  readonly #tab = Math.random().toString(36).slice(2);
  readonly #local = new Set<LocalSubscription>();
  /** `last` asked of the hub for a subscription this tab started (kept in its wants). */
  readonly #lastAsked = new Map<string, number>();
  readonly #wantsByTab = new Map<string, Map<string, Wanted>>();
  readonly #buffers = new Map<string, WireMessage[]>();
  /** Buffers that hold every match in the log: their subscription's `last` replay ran dry. */
  readonly #complete = new Set<string>();
  readonly #listeners = new Set<(c: ConnectionView) => void>();
  readonly #channel: TabChannel;
  readonly #election: Election;
  readonly #presence: TabPresence;
  /** This tab holds its presence lock: only then does it announce its wants. */
  #present = false;
  #session: HubSession | undefined;
  #newest: number | undefined;
  #state: ConnectionStateName = 'connecting';
  #announcedLeader = false;
  #closed = false;
  #replayRequests = 0;

  constructor(options: PushClientOptions) {
    this.#options = options;
    this.#channel = openTabChannel(options.shareKey, (m) => this.#onTabMessage(m));
    this.#presence = tabPresence(options.shareKey, this.#tab);
    void this.#presence.held.then(() => {
      this.#present = true;
      if (!this.#closed) this.#announceWants();
    });
    this.#channel.post({ t: 'hello', tab: this.#tab });
    this.#election = electLeader(options.shareKey, () => this.#lead());
  }

  get connection(): ConnectionView {
    return { state: this.#state, leader: this.#session !== undefined };
  }

  onConnectionChange(listener: (c: ConnectionView) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  subscribe(
    mfeId: string,
    topic: string,
    handler: (message: PushMessage) => void,
    options: SubscribeOptions = {},
  ): () => void {
    const id = hubSubscriptionId(topic, options.filter);
    const live = this.#isWanted(id);
    // A `last` on the subscription itself replays only if the connection adds it live or
    // starts fresh. A follower may not know yet that another tab has it live (its `last`
    // would reach the leader too late); a connection being re-established resumes it after
    // a position instead. Both ask a one-shot replay.
    const honoursLast =
      (this.#session !== undefined || this.#options.shareKey === undefined) &&
      (this.#state === 'open' || this.#newest === undefined);
    const replay = options.replay ?? 0;
    const sub: LocalSubscription = {
      id,
      mfeId,
      topic,
      filter: options.filter,
      handler,
      seen: this.#newest ?? 0,
      replay: replay > 0,
    };
    const recent = replay > 0 ? (this.#buffers.get(id) ?? []).slice(-replay) : [];
    if (replay > 0 && live && (recent.length === replay || this.#complete.has(id))) {
      if (recent.length > 0) sub.seen = Math.max(sub.seen, recent[recent.length - 1]!.position);
      queueMicrotask(() => {
        for (const message of recent) this.#call(sub, message, true);
      });
    } else if (replay > 0 && (live || !honoursLast)) {
      // The buffer started when the subscription went live here: older matches are the hub's.
      sub.seen = 0;
      const rid = replayRequestId(id, this.#tab, ++this.#replayRequests);
      sub.pending = { id: rid, last: replay, held: [] };
      sub.giveUp = setTimeout(() => this.#caughtUp([rid], []), REPLAY_GIVE_UP_MS);
    } else if (replay > 0) {
      sub.seen = 0; // the hub's replay of the last N comes first, then live
      this.#lastAsked.set(id, Math.max(replay, this.#lastAsked.get(id) ?? 0));
    }
    this.#local.add(sub);
    this.#announceWants();
    return () => {
      if (!this.#local.delete(sub)) return;
      clearTimeout(sub.giveUp);
      this.#announceWants();
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const sub of this.#local) clearTimeout(sub.giveUp);
    this.#channel.post({ t: 'bye', tab: this.#tab, leader: this.#session !== undefined });
    this.#presence.close();
    this.#session?.close();
    this.#session = undefined;
    this.#channel.close();
    this.#election.release();
    this.#setState('closed');
  }

  #lead(): void {
    if (this.#closed) return;
    this.#session = new HubSession({
      hub: this.#options.hub,
      getToken: this.#options.getToken,
      transport: this.#options.transport,
      backoff: this.#options.backoff,
      resumeFrom: () => this.#newest,
      onMessage: (message) => {
        this.#channel.post({ t: 'msg', m: message });
        this.#receive(message);
      },
      onOpen: (position) => this.#covered(position),
      onCaughtUp: (ids, exhausted) => {
        this.#channel.post({ t: 'caught-up', ids, exhausted });
        this.#caughtUp(ids, exhausted);
      },
      onState: (state) => {
        this.#channel.post({
          t: 'state',
          state,
          ...(state === 'open' && this.#newest !== undefined ? { position: this.#newest } : {}),
        });
        this.#setState(state);
      },
    });
    this.#session.setDesired(this.#union());
    this.#session.start();
    for (const tab of this.#wantsByTab.keys()) this.#watch(tab);
  }

  /** The leader drops the wants of a tab that went without a `bye` (it crashed). */
  #watch(tab: string): void {
    this.#presence.watch(tab, () => {
      if (this.#closed || !this.#wantsByTab.delete(tab)) return;
      this.#channel.post({ t: 'bye', tab, leader: false });
      this.#wantsChanged();
    });
  }

  #onTabMessage(message: TabMessage): void {
    if (this.#closed) return;
    switch (message.t) {
      case 'want':
        this.#wantsByTab.set(message.tab, new Map(message.wants.map((w) => [w.spec.id, w])));
        if (this.#session) this.#watch(message.tab);
        this.#wantsChanged();
        return;
      case 'bye':
        this.#presence.unwatch(message.tab);
        this.#wantsByTab.delete(message.tab);
        this.#wantsChanged();
        if (message.leader && !this.#session) this.#setState('connecting');
        return;
      case 'hello':
        this.#announceWants();
        if (this.#session)
          this.#channel.post({
            t: 'state',
            state: this.#state,
            ...(this.#newest !== undefined ? { position: this.#newest } : {}),
          });
        return;
      case 'state':
        if (this.#session) return;
        this.#covered(message.position);
        this.#setState(message.state);
        return;
      case 'msg':
        this.#receive(message.m);
        return;
      case 'caught-up':
        this.#caughtUp(message.ids, message.exhausted);
        return;
    }
  }

  #announceWants(): void {
    const wants = new Map<string, Wanted>();
    for (const sub of this.#local) {
      if (wants.has(sub.id)) continue;
      const last = this.#lastAsked.get(sub.id);
      wants.set(sub.id, {
        spec: {
          id: sub.id,
          topic: sub.topic,
          ...(sub.filter !== undefined ? { filter: sub.filter } : {}),
        },
        ...(last !== undefined ? { last } : {}),
      });
    }
    for (const { pending, topic, filter } of this.#local)
      if (pending)
        wants.set(pending.id, {
          spec: { id: pending.id, topic, ...(filter !== undefined ? { filter } : {}) },
          last: pending.last,
          once: true,
        });
    for (const id of this.#lastAsked.keys()) if (!wants.has(id)) this.#lastAsked.delete(id);
    this.#wantsByTab.set(this.#tab, wants);
    // Announced once this tab holds its presence lock, so the leader's watch queues behind it.
    if (this.#present)
      this.#channel.post({ t: 'want', tab: this.#tab, wants: [...wants.values()] });
    this.#wantsChanged();
  }

  /** The leader follows the union; every tab forgets buffers no tab wants any more. */
  #wantsChanged(): void {
    const union = this.#union();
    this.#session?.setDesired(union);
    for (const id of this.#buffers.keys())
      if (!union.has(id)) {
        this.#buffers.delete(id);
        this.#complete.delete(id);
      }
  }

  #isWanted(id: string): boolean {
    for (const wants of this.#wantsByTab.values()) if (wants.has(id)) return true;
    return false;
  }

  /** What the hub connection should carry: every tab's wants, the largest `last` of each. */
  #union(): Map<string, Wanted> {
    const union = new Map<string, Wanted>();
    for (const wants of this.#wantsByTab.values())
      for (const [id, wanted] of wants) {
        const known = union.get(id);
        const last = Math.max(known?.last ?? 0, wanted.last ?? 0);
        union.set(id, {
          spec: wanted.spec,
          ...(last > 0 ? { last } : {}),
          ...(wanted.once ? { once: true as const } : {}),
        });
      }
    return union;
  }

  /**
   * The open connection delivers everything after `position`: a later hand-over or
   * reconnect resumes from there even if no message has arrived yet.
   */
  #covered(position: number | undefined): void {
    if (position !== undefined) this.#newest = Math.max(this.#newest ?? 0, position);
  }

  #receive(message: WireMessage): void {
    if (!message.replayed) this.#newest = Math.max(this.#newest ?? 0, message.position);
    for (const id of message.subscriptions) {
      let buffer = this.#buffers.get(id);
      if (!buffer) this.#buffers.set(id, (buffer = []));
      // Positions only grow per subscription; an older one is a duplicate from a handover.
      if ((buffer[buffer.length - 1]?.position ?? 0) >= message.position) continue;
      buffer.push(message);
      if (buffer.length > BUFFER_SIZE) {
        buffer.shift();
        this.#complete.delete(id);
      }
    }
    for (const sub of this.#local)
      if (sub.pending) holdForReplay(sub.pending, sub.id, message);
      else if (
        message.subscriptions.includes(sub.id) &&
        message.position > sub.seen &&
        (sub.replay || message.replayed !== true)
      )
        this.#call(sub, message, message.replayed === true);
  }

  /**
   * One-shot replays that are done hand over what they held and leave the connection. A
   * buffer whose `last` replay ran dry holds every match, if this tab got all of that replay.
   */
  #caughtUp(ids: string[], exhausted: Array<[string, number]>): void {
    for (const [id, got] of exhausted)
      if ((this.#buffers.get(id)?.length ?? 0) >= got) this.#complete.add(id);
    let done = false;
    for (const sub of this.#local) {
      const pending = sub.pending;
      if (!pending || !ids.includes(pending.id)) continue;
      sub.pending = undefined;
      clearTimeout(sub.giveUp);
      done = true;
      for (const { message, replayed } of mergeHeld(pending.held))
        if (message.position > sub.seen) this.#call(sub, message, replayed);
    }
    if (done) this.#announceWants();
  }

  #call(sub: LocalSubscription, message: WireMessage, replayed: boolean): void {
    sub.seen = Math.max(sub.seen, message.position);
    try {
      sub.handler({
        topic: message.topic,
        position: message.position,
        event: message.event,
        ...(replayed ? { replayed: true } : {}),
      });
    } catch (error) {
      // One micro-frontend's failing handler must not starve the others.
      console.error(`[portico shell] the push handler of "${sub.mfeId}" threw`, error);
    }
  }

  #setState(state: ConnectionStateName): void {
    const leader = this.#session !== undefined;
    if (state === this.#state && leader === this.#announcedLeader) return;
    this.#state = state;
    this.#announcedLeader = leader;
    const view = this.connection;
    for (const listener of [...this.#listeners]) {
      // A micro-frontend's failing listener must not stop the others, nor the reconnect
      // that the state change is part of.
      try {
        listener(view);
      } catch (error) {
        console.error('[portico shell] a connection listener threw', error);
      }
    }
  }
}
