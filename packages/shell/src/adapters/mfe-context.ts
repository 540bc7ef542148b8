/**
 * What an adapter hands a micro-frontend: the shell, with the micro-frontend's id filled in
 * (its bus events are sent as it, its push subscriptions are made as it), and a release that
 * drops every subscription made through it, for when the micro-frontend unmounts.
 */
import { busForMfe } from '../bus/mfe-bus.ts';
import type { ClientBus, PushMessage, Shell, SubscribeOptions } from '../types.ts';

export type MfeContext = {
  readonly shell: Shell;
  readonly mfeId: string;
  /** The shell's bus as this micro-frontend: what it publishes is sent as it. */
  readonly bus: ClientBus;
  /** `shell.subscribe` as this micro-frontend. */
  subscribe(
    topicPattern: string,
    handler: (message: PushMessage) => void,
    options?: SubscribeOptions,
  ): () => void;
};

export type OwnedMfeContext = MfeContext & {
  /** Ends every subscription made through this context so far; the context stays usable. */
  release(): void;
};

export function createMfeContext(shell: Shell, mfeId: string): OwnedMfeContext {
  const live = new Set<() => void>();
  const track = (unsubscribe: () => void) => {
    const once = () => {
      if (live.delete(once)) unsubscribe();
    };
    live.add(once);
    return once;
  };
  const bus = busForMfe(shell.bus, mfeId);
  return {
    shell,
    mfeId,
    bus: {
      publish: bus.publish,
      subscribe: (typePattern, handler) => track(bus.subscribe(typePattern, handler)),
      onViolation: (listener) => track(bus.onViolation(listener)),
    },
    subscribe: (topicPattern, handler, options) =>
      track(shell.subscribe(mfeId, topicPattern, handler, options)),
    release() {
      for (const unsubscribe of [...live]) unsubscribe();
    },
  };
}
