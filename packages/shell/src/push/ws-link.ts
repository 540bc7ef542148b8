/**
 * The hub connection over WebSocket (`/v1/ws?ticket=…`): subscriptions are `subscribe` /
 * `unsubscribe` messages, the credential is refreshed in band on `expiring`.
 */
import { mintTicket } from './stream-ticket.ts';
import type { HubLink, HubSpec, LinkOptions, Replay, WireMessage } from './wire.ts';

type HubFrame = { type: string; subscriptions?: string[] } & Partial<WireMessage>;

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

  socket.onmessage = (event) => {
    const frame = JSON.parse(String(event.data)) as HubFrame;
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
        events.message(frame as WireMessage);
        return;
      case 'caught-up':
        events.caughtUp(frame.subscriptions ?? []);
        return;
      case 'expiring':
        void Promise.resolve(getToken()).then((token) => send({ type: 'refresh', token }));
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
