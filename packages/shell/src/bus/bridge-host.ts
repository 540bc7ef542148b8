/**
 * The shell side of the iframe bridge: `bridgeIframe(bus, iframe, { origin })`.
 *
 * A hello is accepted only from the bridged iframe's window (`event.source`) and its origin;
 * the origin must be on the bus's allow-list (`bridgeOrigins`). A sandboxed iframe without
 * `allow-same-origin` has the opaque origin "null": then the window check carries the weight,
 * and the origin checked is the one of the `src` the shell gave it. Every other bridge-marked
 * window message (another window, another origin, or bus traffic outside the port) is refused
 * and reported, and never reaches the bus. A hello must also carry the nonce the shell put
 * in the frame's URL (bridge-nonce.ts): a document the frame navigates to has the same
 * window, and sandboxed the same opaque origin, but not that nonce.
 */
import { ShellError } from '../shell-error.ts';
import type { BusEvent, ClientBus } from '../types.ts';
import {
  isBridgeWindowMessage,
  isHello,
  parseClientMessage,
  type ClientMessage,
  type HostMessage,
} from './bridge-protocol.ts';
import { newBridgeNonce, srcWithNonce } from './bridge-nonce.ts';
import { bridgeSlot, type BridgeSlot } from './bridge-slot.ts';
import { normalizeOrigin } from './origin.ts';

/** An untrusted frame must not grow the shell's subscription set without bound. */
const MAX_SUBSCRIPTIONS_PER_FRAME = 256;

export type BridgeOptions = {
  /** The origin the iframe's document comes from; must be on the bus's `bridgeOrigins`. */
  origin: string;
  /**
   * The micro-frontend in the iframe: its events are sent as it, whatever it claims.
   * Without it the frame's events have no sender, and one that claims a `from` is refused.
   */
  mfeId?: string;
};

export type BridgeRefusal = {
  /** The refused message's origin (`"null"` for an opaque, sandboxed origin). */
  origin: string;
  reason: string;
  /** The bridged iframe the refusal concerns, when it came from one. */
  iframe?: HTMLIFrameElement;
};

export function bridgeIframe(
  bus: ClientBus,
  iframe: HTMLIFrameElement,
  options: BridgeOptions,
): () => void {
  const slot = slotOf(bus);
  const origin = normalizeOrigin(options.origin);
  if (!slot.origins.includes(origin))
    throw new ShellError(
      'invalid',
      `origin ${origin} is not in the shell's bridgeOrigins (${slot.origins.join(', ') || 'none'})`,
    );
  const src = iframe.getAttribute('src');
  const base = iframe.ownerDocument.baseURI;
  // The nonce travels in the src: a frame without one could not be told from its successors.
  if (!src) throw new ShellError('invalid', 'bridgeIframe needs the iframe with its src set');
  if (new URL(src, base).origin !== origin)
    throw new ShellError('invalid', `the iframe's src ${src} is not on origin ${origin}`);
  const view = iframe.ownerDocument.defaultView;
  if (!view) throw new ShellError('invalid', 'the iframe is not in a window');
  const nonce = newBridgeNonce();
  iframe.setAttribute('src', srcWithNonce(src, base, nonce));
  slot.host ??= new BridgeHost(bus, slot, view, () => (slot.host = undefined));
  return slot.host.add(iframe, origin, options.mfeId, nonce);
}

/** Listens to the bridge refusals of this bus (they also go to console.warn). */
export function onBridgeRefused(bus: ClientBus, listener: (r: BridgeRefusal) => void): () => void {
  const listeners = slotOf(bus).refusalListeners;
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function slotOf(bus: ClientBus): BridgeSlot {
  const slot = (bus as { [bridgeSlot]?: BridgeSlot })[bridgeSlot];
  if (!slot)
    throw new ShellError('invalid', 'bridgeIframe needs the bus of createShell or createBus');
  return slot;
}

type Bridge = {
  iframe: HTMLIFrameElement;
  origin: string;
  mfeId: string | undefined;
  nonce: string;
  session: string | undefined;
  disconnect: (() => void) | undefined;
};

export class BridgeHost {
  readonly #bus: ClientBus;
  readonly #slot: BridgeSlot;
  readonly #window: Window;
  readonly #onEmpty: () => void;
  readonly #bridges = new Set<Bridge>();
  /** What was already reported per sending window: a retrying or noisy frame warns once per reason. */
  readonly #reported = new WeakMap<object, Set<string>>();

  constructor(bus: ClientBus, slot: BridgeSlot, window: Window, onEmpty: () => void) {
    this.#bus = bus;
    this.#slot = slot;
    this.#window = window;
    this.#onEmpty = onEmpty;
    window.addEventListener('message', this.#onMessage);
  }

  add(
    iframe: HTMLIFrameElement,
    origin: string,
    mfeId: string | undefined,
    nonce: string,
  ): () => void {
    const bridge: Bridge = {
      iframe,
      origin,
      mfeId,
      nonce,
      session: undefined,
      disconnect: undefined,
    };
    this.#bridges.add(bridge);
    return () => this.#remove(bridge);
  }

  close(): void {
    for (const bridge of [...this.#bridges]) this.#remove(bridge);
  }

  #remove(bridge: Bridge): void {
    if (!this.#bridges.delete(bridge)) return;
    bridge.disconnect?.();
    if (this.#bridges.size === 0) {
      this.#window.removeEventListener('message', this.#onMessage);
      this.#onEmpty();
    }
  }

  readonly #onMessage = (event: MessageEvent): void => {
    if (!isBridgeWindowMessage(event.data)) return; // someone else's postMessage traffic
    let bridge: Bridge | undefined;
    for (const b of this.#bridges)
      if (event.source !== null && event.source === b.iframe.contentWindow) bridge = b;
    const refuse = (reason: string) => {
      if (event.source) {
        const seen = this.#reported.get(event.source) ?? new Set();
        this.#reported.set(event.source, seen);
        if (seen.has(reason)) return;
        seen.add(reason);
      }
      this.#refuse(event.origin, reason, bridge);
    };
    if (!bridge) return refuse('the sender is not a bridged iframe');
    if (!originMatches(bridge, event.origin))
      return refuse(`the bridged iframe's origin is ${bridge.origin}`);
    if (!isHello(event.data)) return refuse('bus traffic is only accepted over the bridge port');
    if (event.data.nonce !== bridge.nonce)
      return refuse(
        'the hello lacks the nonce given to this frame (a document the frame navigated to)',
      );
    const port = event.ports[0];
    if (!port) return refuse('the hello carried no MessagePort');
    // A retried hello of the connected session was sent before our welcome arrived: ignore it.
    if (event.data.session === bridge.session) return port.close();
    // Another session from the same frame (it reloaded or navigated): it replaces the old one.
    bridge.disconnect?.();
    bridge.session = event.data.session;
    bridge.disconnect = this.#connect(bridge, port);
  };

  #connect(bridge: Bridge, port: MessagePort): () => void {
    const subscriptions = new Map<number, () => void>();
    const send = (message: HostMessage) => port.postMessage(message);
    const refuse = (reason: string) => {
      this.#refuse(bridge.origin, reason, bridge);
      send({ kind: 'refused', detail: reason });
    };
    const stopViolations =
      bridge.mfeId === undefined
        ? () => {}
        : this.#bus.onViolation((violation) => {
            if (violation.from === bridge.mfeId) send({ kind: 'violation', violation });
          });
    const disconnect = () => {
      for (const unsubscribe of subscriptions.values()) unsubscribe();
      subscriptions.clear();
      stopViolations();
      port.onmessage = null;
      port.close();
    };
    port.onmessage = (event) => {
      const message = parseClientMessage(event.data);
      if ('problem' in message) return refuse(message.problem);
      if (message.kind === 'bye') {
        // The frame's bus closed; the same document may connect again (a new session).
        if (bridge.disconnect === disconnect) {
          bridge.disconnect = undefined;
          bridge.session = undefined;
        }
        return disconnect();
      }
      try {
        this.#handle(bridge, message, subscriptions, send);
      } catch (error) {
        // The bus refused it (a malformed type or pattern, a closed bus): tell both sides.
        refuse(`${message.kind}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    send({ kind: 'welcome' });
    return disconnect;
  }

  #handle(
    bridge: Bridge,
    message: Exclude<ClientMessage, { kind: 'bye' }>,
    subscriptions: Map<number, () => void>,
    send: (message: HostMessage) => void,
  ): void {
    const subscriber = bridge.mfeId === undefined ? {} : { mfeId: bridge.mfeId };
    switch (message.kind) {
      case 'publish': {
        if (bridge.mfeId === undefined && message.from !== undefined)
          throw new ShellError(
            'invalid',
            `this frame was bridged without an mfeId: it cannot send as "${message.from}"`,
          );
        this.#bus.publish(
          message.type,
          message.data,
          bridge.mfeId === undefined ? {} : { from: bridge.mfeId },
        );
        return;
      }
      case 'subscribe': {
        const { id } = message;
        subscriptions.get(id)?.();
        if (!subscriptions.has(id) && subscriptions.size >= MAX_SUBSCRIPTIONS_PER_FRAME)
          throw new ShellError(
            'invalid',
            `at most ${MAX_SUBSCRIPTIONS_PER_FRAME} subscriptions per iframe`,
          );
        const handler = (event: BusEvent) => send({ kind: 'event', id, event });
        subscriptions.set(id, this.#bus.subscribe(message.pattern, handler, subscriber));
        return;
      }
      case 'unsubscribe':
        subscriptions.get(message.id)?.();
        subscriptions.delete(message.id);
        return;
    }
  }

  #refuse(origin: string, reason: string, bridge?: Bridge): void {
    const refusal: BridgeRefusal = { origin, reason, ...(bridge && { iframe: bridge.iframe }) };
    console.warn(
      `[portico bus] bridge refused a message from ${origin}${bridge?.mfeId ? ` (${bridge.mfeId})` : ''}: ${reason}`,
    );
    for (const listener of [...this.#slot.refusalListeners]) {
      try {
        listener(refusal);
      } catch (error) {
        console.error('[portico bus] a bridge refusal listener threw', error);
      }
    }
  }
}

function originMatches(bridge: Bridge, origin: string): boolean {
  if (origin === bridge.origin) return true;
  // An opaque origin is only expected from a frame sandboxed without allow-same-origin.
  const sandbox = bridge.iframe.sandbox;
  return (
    origin === 'null' &&
    bridge.iframe.hasAttribute('sandbox') &&
    !sandbox.contains('allow-same-origin')
  );
}
