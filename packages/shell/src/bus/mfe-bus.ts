/**
 * The bus as one micro-frontend sees it: what it publishes is sent as it (`from` is always
 * its id, so contract violations name the right sender) and its subscriptions carry its id
 * (so a failing handler is reported against it). Adapters hand this to micro-frontends.
 */
import type { ClientBus } from '../types.ts';

export function busForMfe(bus: ClientBus, mfeId: string): ClientBus {
  return {
    publish: (type, data) => bus.publish(type, data, { from: mfeId }),
    subscribe: (typePattern, handler) => bus.subscribe(typePattern, handler, { mfeId }),
    onViolation: (listener) => bus.onViolation((v) => v.from === mfeId && listener(v)),
  };
}
