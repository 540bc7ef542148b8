/**
 * `replay: N` for a micro-frontend that mounts on a subscription already live on the
 * connection, when the shell's buffer (only what arrived since it went live) holds fewer
 * than N: a one-shot hub subscription with its own id and `last: N` replays them for that
 * micro-frontend alone. Until its `caught-up`, the replayed and the live messages are held,
 * then handed over merged by position: each once, in order.
 */
import type { WireMessage } from './wire.ts';

export type HeldMessage = { message: WireMessage; replayed: boolean };

/** A replay in progress for one micro-frontend's subscription. */
export type PendingReplay = { id: string; last: number; held: HeldMessage[] };

/**
 * The one-shot subscription's hub id: a valid hub id (`[A-Za-z0-9._:*>-]`, ≤ 128), unique
 * per tab and request, and never a pattern's id (those have no `:`, hashes no `.`).
 */
export function replayRequestId(id: string, tab: string, k: number): string {
  return `${id.slice(0, 96)}:r${k}.${tab}`;
}

/** Holds `message` if it is the replay's or the live subscription's (`liveId`). */
export function holdForReplay(pending: PendingReplay, liveId: string, message: WireMessage): void {
  const live = message.subscriptions.includes(liveId);
  if (live || message.subscriptions.includes(pending.id))
    pending.held.push({ message, replayed: !live || message.replayed === true });
}

/** The held messages by position, each once; a live copy wins over the replayed one. */
export function mergeHeld(held: HeldMessage[]): HeldMessage[] {
  const byPosition = new Map<number, HeldMessage>();
  for (const h of held) {
    const known = byPosition.get(h.message.position);
    if (!known || (known.replayed && !h.replayed)) byPosition.set(h.message.position, h);
  }
  return [...byPosition.values()].sort((a, b) => a.message.position - b.message.position);
}
