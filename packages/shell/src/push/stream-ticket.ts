/** A single-use stream ticket (`POST /v1/stream/tickets`): browsers cannot put a header on EventSource or WebSocket. */
import { ShellError } from '../shell-error.ts';

export type StreamTicket = {
  ticket: string;
  /** The log's newest position at minting: `from` for a connection that must miss nothing. */
  position: number | undefined;
};

export async function mintTicket(
  hub: string,
  getToken: () => string | Promise<string>,
): Promise<StreamTicket> {
  const response = await fetch(new URL('/v1/stream/tickets', hub), {
    method: 'POST',
    headers: { authorization: `Bearer ${await getToken()}` },
  });
  if (!response.ok)
    throw new ShellError(
      'http',
      `stream ticket: the hub answered ${response.status}`,
      response.status,
    );
  const { ticket, position } = (await response.json()) as { ticket: string; position?: number };
  return { ticket, position };
}
