/** The messages tabs exchange on their BroadcastChannel (see push-client.ts). */
import type { Wanted } from './hub-session.ts';
import type { WireMessage } from './wire.ts';

export type ConnectionStateName = 'connecting' | 'open' | 'closed';

export type TabMessage =
  /** A tab's whole set of wanted subscriptions (sent on every change). */
  | { t: 'want'; tab: string; wants: Wanted[] }
  /** A tab is going away (its wants end; if it led, the connection goes with it). */
  | { t: 'bye'; tab: string; leader: boolean }
  /** A tab started: everyone repeats their wants, the leader its state. */
  | { t: 'hello'; tab: string }
  /** The leader's connection state; when open, the position it covers everything after. */
  | { t: 'state'; state: ConnectionStateName; position?: number }
  /** An event message from the hub, forwarded by the leader. */
  | { t: 'msg'; m: WireMessage }
  /** The hub's `caught-up`, forwarded by the leader (see HubSession's onCaughtUp). */
  | { t: 'caught-up'; ids: string[]; exhausted: Array<[string, number]> };

export type TabChannel = {
  post(message: TabMessage): void;
  close(): void;
};

export function openTabChannel(
  name: string | undefined,
  onMessage: (message: TabMessage) => void,
): TabChannel {
  if (name === undefined || typeof BroadcastChannel === 'undefined')
    return { post() {}, close() {} };
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event: MessageEvent<TabMessage>) => onMessage(event.data);
  return {
    post: (message) => channel.postMessage(message),
    close: () => channel.close(),
  };
}
