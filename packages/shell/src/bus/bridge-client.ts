/**
 * The iframe side of the bridge: `connectToShell({ parentOrigin })` gives a sandboxed
 * micro-frontend the shell's bus. The hello goes to the parent's exact origin (a shell on any
 * other origin never sees it, so never gets the port); everything after it flows over the
 * MessageChannel the hello carried.
 */
import { ShellError } from '../shell-error.ts';
import type { BusEvent, ClientBus, ContractViolation } from '../types.ts';
import { nonceInHash } from './bridge-nonce.ts';
import { helloMessage, type ClientMessage, type HostMessage } from './bridge-protocol.ts';
import { describeViolation } from './describe-violation.ts';
import { normalizeOrigin } from './origin.ts';
import { eventTypeProblem, typePatternProblem } from './type-pattern.ts';

export type ConnectToShellOptions = {
  /** The shell page's origin; `'*'` is refused. */
  parentOrigin: string;
  /** Give up after this long without the shell's answer (default 10 s). */
  timeoutMs?: number;
  /** The window to connect from (default the global one); for tests. */
  window?: Window;
};

export type BridgedBus = ClientBus & { close(): void };

export async function connectToShell(options: ConnectToShellOptions): Promise<BridgedBus> {
  const parentOrigin = normalizeOrigin(options.parentOrigin);
  const self = options.window ?? globalThis.window;
  if (!self || self.parent === self)
    throw new ShellError('invalid', 'connectToShell runs inside an iframe of the shell page');
  // Read at each hello: a shell that bridged an already loaded frame adds it to the fragment.
  const nonce = () => nonceInHash(self.location.hash);
  const port = await handshake(self.parent, parentOrigin, nonce, options.timeoutMs ?? 10_000);
  return bridgedBus(port);
}

/**
 * Says hello until the shell answers: the shell may bridge this iframe only after the iframe's
 * script ran. Each try carries a fresh channel, as a port can be transferred only once.
 */
function handshake(
  parent: Window,
  parentOrigin: string,
  nonce: () => string,
  timeoutMs: number,
): Promise<MessagePort> {
  return new Promise((resolve, reject) => {
    const channels: MessageChannel[] = [];
    const session = crypto.randomUUID();
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = 100;
    const finish = () => {
      clearTimeout(retry);
      clearTimeout(giveUp);
    };
    const giveUp = setTimeout(() => {
      finish();
      for (const c of channels) c.port1.close();
      reject(
        new ShellError(
          'closed',
          `the shell at ${parentOrigin} did not accept the bridge within ${timeoutMs} ms (is this origin in its bridgeOrigins, and this iframe bridged?)`,
        ),
      );
    }, timeoutMs);
    const hello = () => {
      const channel = new MessageChannel();
      channels.push(channel);
      channel.port1.onmessage = (event) => {
        if ((event.data as HostMessage | null)?.kind !== 'welcome') return;
        finish();
        for (const c of channels) if (c !== channel) c.port1.close();
        channel.port1.onmessage = null;
        resolve(channel.port1);
      };
      parent.postMessage(helloMessage(session, nonce()), parentOrigin, [channel.port2]);
      retry = setTimeout(hello, delay);
      delay = Math.min(delay * 2, 2_000);
    };
    hello();
  });
}

function bridgedBus(port: MessagePort): BridgedBus {
  const handlers = new Map<number, (event: BusEvent) => void>();
  const violationListeners = new Set<(v: ContractViolation) => void>();
  let nextId = 1;
  let closed = false;
  const send = (message: ClientMessage) => {
    if (closed) throw new ShellError('closed', 'the bridge to the shell is closed');
    port.postMessage(message);
  };
  port.onmessage = (event) => {
    const message = event.data as HostMessage;
    switch (message?.kind) {
      case 'event': {
        const handler = handlers.get(message.id);
        try {
          handler?.(message.event);
        } catch (error) {
          console.error(`[portico bus] a subscriber failed on ${message.event.type}`, error);
        }
        return;
      }
      case 'violation':
        console.warn(`[portico bus] ${describeViolation(message.violation)}`);
        for (const listener of [...violationListeners]) listener(message.violation);
        return;
      case 'refused':
        console.warn(`[portico bus] the shell refused a bridge message: ${message.detail}`);
        return;
    }
  };
  return {
    publish(type, data, options) {
      const problem = eventTypeProblem(type);
      if (problem) throw new ShellError('invalid', `bus event type "${String(type)}" ${problem}`);
      send({
        kind: 'publish',
        type,
        data,
        ...(options?.from !== undefined && { from: options.from }),
      });
    },
    subscribe(typePattern, handler) {
      const problem = typePatternProblem(typePattern);
      if (problem)
        throw new ShellError('invalid', `bus type pattern "${String(typePattern)}" ${problem}`);
      const id = nextId++;
      handlers.set(id, handler);
      send({ kind: 'subscribe', id, pattern: typePattern });
      return () => {
        if (!handlers.delete(id) || closed) return;
        send({ kind: 'unsubscribe', id });
      };
    },
    onViolation(listener) {
      violationListeners.add(listener);
      return () => violationListeners.delete(listener);
    },
    close() {
      if (closed) return;
      // The shell drops this frame's subscriptions (it cannot see a closed port).
      port.postMessage({ kind: 'bye' } satisfies ClientMessage);
      closed = true;
      handlers.clear();
      port.onmessage = null;
      port.close();
    },
  };
}
