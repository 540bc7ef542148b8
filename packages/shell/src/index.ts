/** `@portico/shell`: the browser shell SDK. */
export { createShell } from './shell.ts';
export { ShellError, type ShellErrorCode } from './shell-error.ts';
export * from './bus/index.ts';
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
