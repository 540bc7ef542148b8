/** A single-use stream ticket (`POST /v1/stream/tickets`): browsers cannot put a header on EventSource or WebSocket. */
import { ShellError } from '../shell-error.ts';

export type StreamTicket = {
  ticket: string;
  /** The log's newest position at minting: `from` for a connection that must miss nothing. */
  position: number | undefined;
};

/** A refused ticket; `retryAfterMs` when the hub (429, 503) said how long to wait. */
type TicketError = ShellError & { retryAfterMs?: number };

export async function mintTicket(
  hub: string,
  getToken: () => string | Promise<string>,
  signal?: AbortSignal,
): Promise<StreamTicket> {
  const response = await fetch(new URL('/v1/stream/tickets', hub), {
    method: 'POST',
    headers: { authorization: `Bearer ${await getToken()}` },
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) {
    const error: TicketError = new ShellError(
      'http',
      `stream ticket: the hub answered ${response.status}`,
      response.status,
    );
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
    if (retryAfterMs !== undefined) error.retryAfterMs = retryAfterMs;
    throw error;
  }
  const { ticket, position } = (await response.json()) as { ticket: string; position?: number };
  return { ticket, position };
}

/** How long the hub asked to wait before the next ticket, if it did. */
export function retryAfterOf(error: unknown): number | undefined {
  return error instanceof ShellError ? (error as TicketError).retryAfterMs : undefined;
}

/** `Retry-After` in seconds or as an HTTP date, in ms from `now`; undefined when unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names a day and a month; Date.parse would also read "-1" or "1.5" as dates.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
