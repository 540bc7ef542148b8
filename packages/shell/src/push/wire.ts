/** What travels between the hub, the leader tab and the other tabs. */
import type { CloudEvent } from '../types.ts';

/** One subscription on the hub connection, shared by every micro-frontend that wants it. */
export type HubSpec = { id: string; topic: string; filter?: unknown };

/** An event message as the hub sends it (both wires), plus whether it was a replay. */
export type WireMessage = {
  subscriptions: string[];
  position: number;
  topic: string;
  event: CloudEvent;
  replayed?: boolean;
};

/** How a subscription joins a connection: resumed after a position, or with recent events. */
export type Replay = { from?: number; last?: number };

export type LinkEvents = {
  /**
   * The hub accepted the connection (SSE `ready`, WebSocket `welcome`); everything after
   * `position` (when known) reaches this link.
   */
  open(position: number | undefined): void;
  message(message: WireMessage): void;
  caughtUp(ids: string[]): void;
  /** The connection ended or failed; the owner reconnects with a fresh ticket. */
  closed(reason: string): void;
};

/** One live connection to the hub on either wire. */
export type HubLink = {
  add(spec: HubSpec, replay: Replay): Promise<void>;
  remove(id: string): Promise<void>;
  close(): void;
};

export type LinkOptions = {
  hub: string;
  getToken: () => string | Promise<string>;
  /**
   * Subscriptions at connect time, resumed after `from`. Without `from` the connection is
   * fresh: it starts at the ticket's position, and a subscription with `last` replays those.
   */
  initial: Array<{ spec: HubSpec; last?: number }>;
  from: number | undefined;
  events: LinkEvents;
};
