/**
 * The hub connection over WebSocket (`/v1/ws?ticket=…`): subscriptions are `subscribe` /
 * `unsubscribe` messages, the credential is refreshed in band on `expiring`.
 */
import { mintTicket } from './stream-ticket.ts';
import {
  isStringArray,
  isWireMessage,
  malformedFrameWarning,
  parseFrame,
  type HubLink,
  type HubSpec,
  type LinkOptions,
  type Replay,
} from './wire.ts';

type HubFrame = { type?: unknown; subscriptions?: unknown; ref?: unknown; code?: unknown };

/** The hub's `error` codes that mean this subscription will never be accepted as it is. */
const REFUSALS = new Set(['invalid', 'forbidden']);

export async function openWsLink(options: LinkOptions): Promise<HubLink> {
  const { hub, getToken, events } = options;
  const url = new URL('/v1/ws', hub);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const minted = await mintTicket(hub, getToken, options.signal);
  url.searchParams.set('ticket', minted.ticket);
  const fresh = options.from === undefined;
  const from = options.from ?? minted.position;
  const socket = new WebSocket(url);
  let ended = false;
  let ready: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const send = async (message: object) => {
    await isReady;
    if (!ended) socket.send(JSON.stringify(message));
  };
  // Each subscribe carries a ref, so that the hub's `error` for it names the subscription.
  const subscribing = new Map<number, string>();
  let refs = 0;
  const subscribe = (spec: HubSpec, replay: Replay) => {
    const ref = ++refs;
    subscribing.set(ref, spec.id);
    return send({ type: 'subscribe', ...spec, ...replay, ref });
  };

  const malformed = malformedFrameWarning('WebSocket');

  socket.onmessage = (event) => {
    // The hub speaks JSON text frames; a binary or unparsable one is dropped.
    const frame = parseFrame(event.data) as HubFrame | null | undefined;
    if (typeof frame !== 'object' || frame === null) return malformed('not a JSON object');
    switch (frame.type) {
      case 'welcome':
        ready();
        // Fresh: `last` subscriptions replay theirs; the rest start at the ticket's position.
        for (const { spec, last } of options.initial)
          void subscribe(
            spec,
            fresh && last !== undefined ? { last } : from !== undefined ? { from } : {},
          );
        events.open(from);
        return;
      case 'event':
        if (isWireMessage(frame)) events.message(frame);
        else malformed('an event message');
        return;
      case 'caught-up':
        if (isStringArray(frame.subscriptions)) events.caughtUp(frame.subscriptions);
        else malformed('caught-up');
        return;
      case 'expiring':
        // A getToken that fails leaves the credential to expire: the hub then closes, and the
        // connection is opened again with a fresh ticket.
        void Promise.resolve()
          .then(getToken)
          .then((token) => send({ type: 'refresh', token }))
          .catch(() => {});
        return;
      case 'subscribed':
        if (typeof frame.ref === 'number') subscribing.delete(frame.ref);
        return;
      case 'error': {
        // The connection stays open. A subscribe refused for good (an invalid filter, a
        // forbidden topic) is the session's to report and keep off; anything else a word.
        const id = typeof frame.ref === 'number' ? subscribing.get(frame.ref) : undefined;
        if (typeof frame.ref === 'number') subscribing.delete(frame.ref);
        if (id !== undefined && typeof frame.code === 'string' && REFUSALS.has(frame.code))
          events.refused(id, frame);
        else console.warn('[portico shell] the hub refused a WebSocket message:', frame);
        return;
      }
    }
  };
  socket.onclose = (event) => {
    if (ended) return;
    ended = true;
    events.closed(`close ${event.code}`);
  };

  return {
    add: subscribe,
    remove: (id: string) => send({ type: 'unsubscribe', id }),
    close() {
      ended = true;
      socket.close(1000);
    },
  };
}
