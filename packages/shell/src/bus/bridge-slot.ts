/**
 * What a bus created by createBus keeps for the iframe bridge: its origin allow-list and, once
 * an iframe is bridged, the one window listener that serves all of its bridges. Held on the
 * bus object itself (under a symbol) rather than in a module-level registry.
 */
import type { BridgeHost, BridgeRefusal } from './bridge-host.ts';

export const bridgeSlot = Symbol('portico.bus.bridge');

export type BridgeSlot = {
  origins: readonly string[];
  host: BridgeHost | undefined;
  refusalListeners: Set<(refusal: BridgeRefusal) => void>;
};
