/**
 * `GET /v1/ws`: the WebSocket endpoint. Upgrades arrive on the Node server's 'upgrade'
 * event, outside Fastify's request pipeline, so this module authenticates them itself
 * (bearer header or `?ticket=`), checks the scope and the tenant's connection limit, and
 * answers a refused handshake with a problem+json HTTP response instead of a 101.
 *
 * Server messages: welcome, subscribed, unsubscribed, event, reset, caught-up, refreshed,
 * expiring, pong, error. See README.md for their fields and the close codes.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Authenticator } from '../auth/principal.ts';
import type { HubServer } from '../http/server.ts';
import { toProblem } from '../http/server.ts';
import { problems, type ProblemError } from '../http/problem.ts';
import type { PushConnection } from './push-connection.ts';
import { PushError, pushErrorToProblem } from './push-error.ts';
import type { PushGateway } from './push-gateway.ts';
import { admitStream, authenticateBearer } from './stream-auth.ts';
import { replayOptions } from './subscription-spec.ts';
import type { TicketStore } from './ticket-store.ts';
import {
  parseClientMessage,
  type ClientMessage,
  type ParseResult,
  type Ref,
} from './ws-protocol.ts';
import { WsTransport } from './ws-transport.ts';

export const WS_PATH = '/v1/ws';
/** Client messages are small control messages; a filter is at most 8 KiB. */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

/**
 * Socket errors are followed by 'close'. A module-level listener, not a closure: a closure
 * made in the upgrade handler would keep its scope (the request with its headers, the
 * bearer token among them) alive for as long as the socket is open.
 */
const ignoreError = (): void => {};

export type WsEndpointDeps = {
  server: HubServer;
  gateway: PushGateway;
  tickets: TicketStore;
  authenticator: Authenticator;
};

/** Attaches the upgrade handler; returns a function that detaches it. */
export function attachWsEndpoint(deps: WsEndpointDeps): () => void {
  const { server, gateway } = deps;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    clientTracking: false,
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Not `new URL`: a target such as `//` does not parse, and a throw in an 'upgrade'
    // listener is an uncaught exception, which ends the process.
    const url = URL.parse(req.url ?? '/', 'http://hub.invalid');
    if (url?.pathname !== WS_PATH) {
      // Another capability may own this path; answer only when nobody else listens.
      if (server.server.listenerCount('upgrade') !== 1) return;
      // Node has taken its own error listener off an upgraded socket: without one, a peer
      // that resets the connection before the refusal is written ends the process.
      socket.on('error', ignoreError);
      if (url === null)
        refuse(socket, problems.validation('the request target is not a valid URL path'));
      else
        refuse(socket, problems.notFound(`no WebSocket endpoint at ${url.pathname}`), url.pathname);
      return;
    }
    socket.on('error', ignoreError);
    // Checked before the credential: a single-use ticket is not spent on a handshake that
    // cannot succeed.
    const malformed = handshakeProblem(req);
    if (malformed) {
      refuse(socket, malformed, WS_PATH);
      return;
    }
    const tickets = url.searchParams.getAll('ticket');
    if (tickets.length > 1) {
      // As on /v1/stream: which one was meant is not for the hub to guess.
      refuse(
        socket,
        problems.validation('give one stream ticket', [
          { pointer: '/ticket', detail: 'must be given once', in: 'query' },
        ]),
        WS_PATH,
      );
      return;
    }
    const ticket = tickets[0];
    admitStream({ authorization: req.headers.authorization, ticket }, deps, {
      // Refusals (limit, scope, draining) are answered here, before the 101.
      check: (principal) => gateway.precheck(principal),
      // ws completes the handshake synchronously (no verifyClient), so the connection is
      // registered in the same tick as the check: concurrent upgrades cannot all pass a
      // limit that only one more fits.
      open: (principal) =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          let connection: PushConnection;
          try {
            connection = gateway.open(principal, new WsTransport(ws));
          } catch (error) {
            // Only if a later ws completed the handshake asynchronously: the check no longer
            // holds, and the 101 has gone. Try again later.
            ws.close(1013, error instanceof Error ? error.message.slice(0, 120) : 'refused');
            return;
          }
          startSession(connection, ws, deps);
        }),
    }).catch((error: unknown) => {
      const problem = error instanceof PushError ? pushErrorToProblem(error) : toProblem(error);
      if (problem.status >= 500) server.log.error({ err: error }, 'WebSocket upgrade failed');
      refuse(socket, problem, WS_PATH);
    });
  };
  // What ws refuses itself (e.g. a malformed Sec-WebSocket-Protocol) it answers in
  // text/html unless this event has a listener: answer in the hub's error model instead.
  wss.on('wsClientError', (error, socket) =>
    refuse(
      socket,
      problems.validation(`the WebSocket handshake is invalid: ${error.message}`),
      WS_PATH,
    ),
  );
  server.server.on('upgrade', onUpgrade);
  return () => {
    server.server.off('upgrade', onUpgrade);
    wss.close();
  };
}

function startSession(connection: PushConnection, ws: WebSocket, deps: WsEndpointDeps): void {
  const { gateway } = deps;
  connection.control('welcome', {
    connectionId: connection.id,
    expiresAt: new Date(connection.principal.expiresAt * 1000).toISOString(),
    heartbeatSeconds: gateway.limits.heartbeatMs / 1000,
    limits: {
      maxQueueBytes: gateway.maxQueueBytes,
      maxSubscriptionsPerConnection: gateway.limits.maxSubscriptionsPerConnection,
    },
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      connection.control('error', { code: 'invalid', detail: 'messages are JSON text frames' });
      return;
    }
    let parsed: ParseResult;
    try {
      parsed = parseClientMessage(rawToString(data));
    } catch (error) {
      // Nothing above this listener catches: a throw here would end the process.
      deps.server.log.error({ err: error }, 'push WebSocket message failed');
      connection.control('error', {
        code: 'internal',
        detail: 'the hub failed to handle this message',
      });
      return;
    }
    if (!parsed.ok) {
      connection.control('error', { ...parsed.error });
      return;
    }
    handle(connection, parsed.message, deps).catch((error: unknown) => {
      const ref = refOf(parsed.message);
      if (error instanceof PushError) {
        connection.control('error', {
          code: error.code,
          detail: error.message,
          ...(error.errors ? { errors: error.errors } : {}),
          ...ref,
          ...('spec' in parsed.message ? { id: parsed.message.spec.id } : {}),
          ...('id' in parsed.message ? { id: parsed.message.id } : {}),
        });
      } else {
        deps.server.log.error({ err: error }, 'push WebSocket message failed');
        connection.control('error', {
          code: 'internal',
          detail: 'the hub failed to handle this message',
          ...ref,
        });
      }
    });
  });
}

async function handle(
  connection: PushConnection,
  message: ClientMessage,
  deps: WsEndpointDeps,
): Promise<void> {
  const { gateway } = deps;
  const ref = refOf(message);
  switch (message.type) {
    case 'subscribe': {
      const { spec } = message;
      gateway.subscribe(connection, [spec], replayOptions(spec));
      connection.control('subscribed', { id: spec.id, ...ref });
      return;
    }
    case 'unsubscribe':
      if (!gateway.unsubscribe(connection, message.id))
        throw new PushError('not-found', `no subscription "${message.id}" on this connection`);
      connection.control('unsubscribed', { id: message.id, ...ref });
      return;
    case 'refresh': {
      const principal = await authenticateBearer(`Bearer ${message.token}`, deps.authenticator);
      gateway.refresh(connection, principal);
      connection.control('refreshed', {
        expiresAt: new Date(principal.expiresAt * 1000).toISOString(),
        ...ref,
      });
      return;
    }
    case 'ping':
      connection.control('pong', ref);
      return;
  }
}

function refOf(message: ClientMessage): { ref?: Ref } {
  return message.ref === undefined ? {} : { ref: message.ref };
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The key ws accepts: 16 random bytes in base64 (RFC 6455 §4.1). */
const HANDSHAKE_KEY = /^[+/0-9A-Za-z]{22}==$/;
/** Subprotocols as ws parses them: tokens (RFC 9110 §5.6.2) separated by commas. */
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const SUBPROTOCOLS = new RegExp(`^${TOKEN}(?:[ \\t]*,[ \\t]*${TOKEN})*$`);

/**
 * What is wrong with an upgrade request as a WebSocket handshake: ws's own checks, made
 * here before the ticket is redeemed (ws makes them after, and its refusal would spend it).
 */
function handshakeProblem(req: IncomingMessage): ProblemError | undefined {
  const invalid = (detail: string, headers?: Record<string, string>) => {
    const problem = problems.validation(`the WebSocket handshake is invalid: ${detail}`);
    if (headers) Object.assign(problem.headers, headers);
    return problem;
  };
  if (req.method !== 'GET') return invalid(`it must be a GET, not ${req.method}`);
  if (req.headers.upgrade?.toLowerCase() !== 'websocket')
    return invalid('the Upgrade header must be "websocket"');
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !HANDSHAKE_KEY.test(key))
    return invalid('Sec-WebSocket-Key must be 16 bytes in base64');
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8')
    return invalid('Sec-WebSocket-Version must be 13', { 'sec-websocket-version': '13' });
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const names = protocols.split(',').map((name) => name.trim());
    if (!SUBPROTOCOLS.test(protocols) || new Set(names).size !== names.length)
      return invalid('Sec-WebSocket-Protocol must be a comma-separated list of distinct tokens');
  }
  return undefined;
}

/** Answers a handshake that will not be upgraded, in the hub's one error model. */
function refuse(socket: Duplex, problem: ProblemError, instance?: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(problem.toBody(instance));
  const headers = Object.entries(problem.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}\r\n` +
      'content-type: application/problem+json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n' +
      headers +
      '\r\n' +
      body,
  );
}
