/**
 * Who opens a stream: a bearer token (clients that can send headers) or a single-use
 * ticket (the browser's EventSource and WebSocket, which cannot). Never both, and never a
 * long-lived token in the URL.
 */
import { parseBearer } from '../auth/bearer.ts';
import {
  AuthenticationError,
  AuthenticationUnavailableError,
  type Authenticator,
  type Principal,
} from '../auth/principal.ts';
import { PushError } from './push-error.ts';
import type { TicketStore } from './ticket-store.ts';

export type StreamCredentials = {
  authorization: string | undefined;
  ticket: string | undefined;
};

export async function authenticateStream(
  credentials: StreamCredentials,
  deps: { authenticator: Authenticator; tickets: TicketStore },
): Promise<Principal> {
  const { authorization, ticket } = credentials;
  if (ticket !== undefined && authorization !== undefined)
    throw new PushError('invalid', 'send either a stream ticket or a bearer token, not both');
  if (ticket !== undefined) {
    const principal = await deps.tickets.redeem(ticket);
    if (!principal)
      throw new PushError(
        'unauthorized',
        'the stream ticket is unknown, already used or expired; mint a new one with POST /v1/stream/tickets',
      );
    return principal;
  }
  const token = parseBearer(authorization);
  if (!token)
    throw new PushError(
      'unauthorized',
      'a bearer token (Authorization: Bearer <token>) or a stream ticket (?ticket=) is required',
    );
  try {
    return await deps.authenticator.authenticate(token);
  } catch (error) {
    if (error instanceof AuthenticationUnavailableError)
      throw new PushError('unavailable', 'the identity provider is unreachable; retry shortly');
    if (error instanceof AuthenticationError) throw new PushError('unauthorized', error.message);
    throw error;
  }
}
