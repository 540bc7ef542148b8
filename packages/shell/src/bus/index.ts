/** The client event bus, its contract checks and the iframe bridge. */
export { createBus, type Bus, type BusOptions, type HandlerErrorReport } from './create-bus.ts';
export { busForMfe } from './mfe-bus.ts';
export { fetchCatalogContracts, type CatalogContractsSource } from './catalog-contracts.ts';
export type { EventContract, EventContracts } from './contracts.ts';
export {
  bridgeIframe,
  onBridgeRefused,
  type BridgeOptions,
  type BridgeRefusal,
} from './bridge-host.ts';
export { connectToShell, type BridgedBus, type ConnectToShellOptions } from './bridge-client.ts';
export { describeViolation } from './describe-violation.ts';
export { typedBus, type MatchingTypes, type TypedBus, type TypedBusEvent } from './typed-bus.ts';
