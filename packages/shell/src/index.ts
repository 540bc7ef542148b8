/** `@portico/shell`: the browser shell SDK. */
export { createShell } from './shell.ts';
export { ShellError, type ShellErrorCode } from './shell-error.ts';
export * from './bus/index.ts';
export { createMfeContext, type MfeContext, type OwnedMfeContext } from './adapters/mfe-context.ts';
export {
  defineMfeElement,
  requestMfeContext,
  MFE_CONTEXT,
  type MfeElement,
  type MfeElementOptions,
} from './adapters/web-component.ts';
export type {
  BusEvent,
  ClientBus,
  CloudEvent,
  ConnectionState,
  ContractViolation,
  DictionaryView,
  PushMessage,
  Shell,
  ShellOptions,
  SubscribeOptions,
} from './types.ts';
