/** A single-use stream ticket (`POST /v1/stream/tickets`): browsers cannot put a header on EventSource or WebSocket. */
import { ShellError } from '../shell-error.ts';

export async function mintTicket(
  hub: string,
  getToken: () => string | Promise<string>,
): Promise<string> {
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
  return ((await response.json()) as { ticket: string }).ticket;
}
