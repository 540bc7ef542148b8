/**
 * The iframe bridge's messages. Only the handshake crosses `window.postMessage`: the iframe
 * sends `hello` to the shell's exact origin with one end of a fresh MessageChannel, and all
 * bus traffic then flows over that private port, never through a window message (so no
 * message ever needs the `'*'` target origin, even for a sandboxed iframe's opaque origin).
 */
import type { BusEvent, ContractViolation } from '../types.ts';

/** Marks the bridge's window messages among other libraries' postMessage traffic. */
export const BRIDGE_MARK = 'portico-bus-bridge';
export const BRIDGE_VERSION = 1;

/**
 * `session` is one connectToShell call: its retried hellos share it, a reloaded frame has
 * another. `nonce` is the one the shell put in the frame's URL (bridge-nonce.ts), or `''`.
 */
export type HelloMessage = {
  [BRIDGE_MARK]: typeof BRIDGE_VERSION;
  kind: 'hello';
  session: string;
  nonce: string;
};

/** iframe → shell, over the port. */
export type ClientMessage =
  | { kind: 'publish'; type: string; data: unknown; from?: string }
  | { kind: 'subscribe'; id: number; pattern: string }
  | { kind: 'unsubscribe'; id: number }
  /** The iframe's bus closed: the shell drops its subscriptions. */
  | { kind: 'bye' };

/** shell → iframe, over the port. */
export type HostMessage =
  | { kind: 'welcome' }
  | { kind: 'event'; id: number; event: BusEvent }
  | { kind: 'violation'; violation: ContractViolation }
  | { kind: 'refused'; detail: string };

export function helloMessage(session: string, nonce: string): HelloMessage {
  return { [BRIDGE_MARK]: BRIDGE_VERSION, kind: 'hello', session, nonce };
}

/** Whether a window message claims to be the bridge's (any kind, any version). */
export function isBridgeWindowMessage(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && BRIDGE_MARK in data;
}

export function isHello(data: Record<string, unknown>): data is HelloMessage {
  return (
    data[BRIDGE_MARK] === BRIDGE_VERSION &&
    data.kind === 'hello' &&
    typeof data.session === 'string' &&
    typeof data.nonce === 'string'
  );
}

/** A client message from the (untrusted) iframe, or why it is not one. */
export function parseClientMessage(data: unknown): ClientMessage | { problem: string } {
  if (typeof data !== 'object' || data === null)
    return { problem: 'a bridge message must be an object' };
  const m = data as Record<string, unknown>;
  switch (m.kind) {
    case 'publish':
      if (typeof m.type !== 'string') return { problem: 'publish needs a string type' };
      if (m.from !== undefined && typeof m.from !== 'string')
        return { problem: 'publish: from must be a string' };
      return {
        kind: 'publish',
        type: m.type,
        data: m.data,
        ...(typeof m.from === 'string' && { from: m.from }),
      };
    case 'subscribe':
      if (!Number.isSafeInteger(m.id) || typeof m.pattern !== 'string')
        return { problem: 'subscribe needs an integer id and a string pattern' };
      return { kind: 'subscribe', id: m.id as number, pattern: m.pattern };
    case 'unsubscribe':
      if (!Number.isSafeInteger(m.id)) return { problem: 'unsubscribe needs an integer id' };
      return { kind: 'unsubscribe', id: m.id as number };
    case 'bye':
      return { kind: 'bye' };
    default:
      return { problem: `unknown bridge message kind ${JSON.stringify(m.kind)}` };
  }
}
