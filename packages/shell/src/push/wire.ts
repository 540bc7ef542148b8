/** What travels between the hub, the leader tab and the other tabs. */
import { ShellError } from '../shell-error.ts';
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
  /** The hub accepted a subscription the link added on its own, after `open`. */
  accepted(id: string): void;
  /** The hub refused a subscription the link added on its own (it stays open). */
  refused(id: string, error: unknown): void;
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
   * `proven`: the hub accepted it before. Only those go in an SSE connect URL: the hub
   * refuses the whole stream for one bad subscription there, and EventSource cannot tell
   * which; the others are added one by one after `ready`, resumed after the same position.
   */
  initial: Array<{ spec: HubSpec; last?: number; proven?: boolean }>;
  from: number | undefined;
  events: LinkEvents;
  /** Aborted when the session gives this connection attempt up: its ticket request stops. */
  signal?: AbortSignal;
};

/**
 * What the hub sends is checked before it is used: a malformed frame (a proxy's error page,
 * a hub bug, a version skew) must be dropped with a word on the console, not throw inside
 * an EventSource or WebSocket callback or poison the tabs' buffers.
 */
export function parseFrame(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isWireMessage(value: unknown): value is WireMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    isStringArray(m.subscriptions) &&
    Number.isSafeInteger(m.position) &&
    typeof m.topic === 'string' &&
    typeof m.event === 'object' &&
    m.event !== null
  );
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Warns once per link: a hub that keeps sending garbage must not flood the console. */
export function malformedFrameWarning(wire: string): (what: string) => void {
  let warned = false;
  return (what) => {
    if (warned) return;
    warned = true;
    console.warn(
      `[portico shell] the hub sent a malformed ${wire} frame (${what}); it was dropped (further ones on this connection are dropped silently)`,
    );
  };
}

/** The hub's answer that this subscription will never be accepted as it is. */
export function isRefusal(error: unknown): boolean {
  return (
    error instanceof ShellError &&
    (error.status === 400 || error.status === 403 || error.status === 422)
  );
}
