/**
 * Who opens a stream: a bearer token (clients that can send headers) or a single-use
 * ticket (the browser's EventSource and WebSocket, which cannot). Never both, and never a
 * long-lived token in the URL.
 *
 * A ticket is spent when its stream opens, not when it is looked at: a stream refused by
 * the gateway (`429` a limit, `503` draining, `403`) gives its ticket back, so the client
 * can retry with it, on this node or another, until it expires.
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

export type StreamAuthDeps = { authenticator: Authenticator; tickets: TicketStore };

/**
 * Authenticates the stream's credential, then runs `check` and `open` with its principal,
 * one after the other in the same tick, so what `check` saw (the gateway's limits) still
 * holds when `open` commits to the stream. A PushError from `check` is a refusal: a
 * redeemed ticket is given back before it is rethrown.
 */
export async function admitStream<T>(
  credentials: StreamCredentials,
  deps: StreamAuthDeps,
  admission: { check(principal: Principal): void; open(principal: Principal): T },
): Promise<T> {
  const { authorization, ticket } = credentials;
  if (ticket !== undefined && authorization !== undefined)
    throw new PushError('invalid', 'send either a stream ticket or a bearer token, not both');
  if (ticket === undefined) {
    const principal = await authenticateBearer(authorization, deps.authenticator);
    admission.check(principal);
    return admission.open(principal);
  }
  const redeemed = await deps.tickets.redeem(ticket);
  if (!redeemed)
    throw new PushError(
      'unauthorized',
      'the stream ticket is unknown, already used or expired; mint a new one with POST /v1/stream/tickets',
    );
  try {
    admission.check(redeemed.principal);
  } catch (error) {
    // Best effort: when the store cannot take the ticket back, it stays spent (as a ticket
    // whose client hung up), and the refusal is still the answer.
    if (error instanceof PushError) await redeemed.giveBack().catch(() => {});
    throw error;
  }
  return admission.open(redeemed.principal);
}

/** The principal of `Authorization: Bearer <token>` (also a WebSocket's in-band refresh). */
export async function authenticateBearer(
  authorization: string | undefined,
  authenticator: Authenticator,
): Promise<Principal> {
  const token = parseBearer(authorization);
  if (!token)
    throw new PushError(
      'unauthorized',
      'a bearer token (Authorization: Bearer <token>) or a stream ticket (?ticket=) is required',
    );
  try {
    return await authenticator.authenticate(token);
  } catch (error) {
    if (error instanceof AuthenticationUnavailableError)
      throw new PushError('unavailable', 'the identity provider is unreachable; retry shortly');
    if (error instanceof AuthenticationError) throw new PushError('unauthorized', error.message);
    throw error;
  }
}
