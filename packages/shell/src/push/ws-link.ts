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

type HubFrame = { type?: unknown; subscriptions?: unknown };

export async function openWsLink(options: LinkOptions): Promise<HubLink> {
  const { hub, getToken, events } = options;
  const url = new URL('/v1/ws', hub);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const minted = await mintTicket(hub, getToken);
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
  const subscribe = (spec: HubSpec, replay: Replay) =>
    send({ type: 'subscribe', ...spec, ...replay });

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
      case 'error':
        // The connection stays open; a refused subscribe (limit, forbidden) is worth a word.
        console.warn('[portico shell] the hub refused a WebSocket message:', frame);
        return;
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
