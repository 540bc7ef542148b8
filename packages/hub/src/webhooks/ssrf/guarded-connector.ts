/**
 * Wraps an undici connector so no connection is made to a blocked address:
 * - literal IP hosts (net.connect skips `lookup` for them) are checked before connecting;
 * - host names are checked by the guarded lookup the base connector was built with;
 * - and, as a last line should either be bypassed, the connected peer address is checked on
 *   the TCP `connect` event, before any TLS or HTTP byte is written, and the socket destroyed.
 */
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import type { buildConnector } from 'undici';
import type { AddressGuard } from './address-guard.ts';
import { SsrfBlockedError } from './ssrf-blocked-error.ts';

type Connector = buildConnector.connector;
// undici's own connector returns the socket it opens, though its type says void.
type SocketReturningConnector = (...args: Parameters<Connector>) => Socket | undefined;

export function guardConnector(base: Connector, guard: AddressGuard): Connector {
  return (options, callback) => {
    if (isIP(options.hostname) !== 0) {
      const blocked = guard.check(options.hostname);
      if (blocked !== undefined) {
        queueMicrotask(() => callback(blocked, null)); // asynchronously, like any connect failure
        return;
      }
    }

    let refused: SsrfBlockedError | undefined;
    const socket = (base as SocketReturningConnector)(options, (err, connected) => {
      if (refused !== undefined) callback(refused, null);
      else if (err !== null) callback(err, null);
      else callback(null, connected);
    });
    // prepend: run before undici's and tls's own `connect` listeners.
    socket?.prependOnceListener('connect', () => {
      const peer = socket.remoteAddress;
      refused =
        peer === undefined
          ? new SsrfBlockedError('blocked by the SSRF policy: the peer address is unknown')
          : guard.check(peer);
      if (refused !== undefined) socket.destroy(refused);
    });
  };
}
