/**
 * The hub connection over Server-Sent Events: `EventSource` on `/v1/stream?ticket=…`, with
 * subscriptions added and removed later through the control endpoint
 * (`/v1/stream/{connectionId}/subscriptions`) and the credential refreshed on `expiring`.
 * EventSource's own reconnect would reuse a spent ticket, so any error ends this link and
 * the owner opens a new one with a fresh ticket and `from`.
 */
import { ShellError } from '../shell-error.ts';
import { mintTicket } from './stream-ticket.ts';
import {
  isRefusal,
  isStringArray,
  isWireMessage,
  malformedFrameWarning,
  parseFrame,
  type HubLink,
  type HubSpec,
  type LinkOptions,
  type Replay,
} from './wire.ts';

export async function openSseLink(options: LinkOptions): Promise<HubLink> {
  const { hub, getToken, events } = options;
  const url = new URL('/v1/stream', hub);
  const minted = await mintTicket(hub, getToken);
  url.searchParams.set('ticket', minted.ticket);
  const fresh = options.from === undefined;
  const from = options.from ?? minted.position;
  // On a fresh stream, `last` subscriptions join after `ready` with their own replay; the
  // rest resume from the ticket's position, so nothing since minting is missed.
  const recent = fresh ? options.initial.filter((w) => w.last !== undefined) : [];
  const resumed = options.initial.filter((w) => !recent.includes(w)).map((w) => w.spec);
  if (resumed.length > 0) url.searchParams.set('subscriptions', JSON.stringify(resumed));
  if (from !== undefined) url.searchParams.set('from', String(from));

  const source = new EventSource(url);
  let connectionId: string | undefined;
  let ended = false;
  let ready: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    source.close();
    events.closed(reason);
  };
  const data = (event: Event) => parseFrame((event as MessageEvent<unknown>).data);
  const malformed = malformedFrameWarning('SSE');

  source.addEventListener('ready', (event) => {
    const id = (data(event) as { connectionId?: unknown } | undefined)?.connectionId;
    // Without its connection id the stream cannot be controlled: a fresh one is needed.
    if (typeof id !== 'string' || id === '') {
      malformed('ready without a connectionId');
      return end('malformed-ready');
    }
    connectionId = id;
    ready();
    for (const { spec, last } of recent)
      void control('POST', 'subscriptions', { ...spec, last }).catch((error: unknown) =>
        isRefusal(error) ? events.refused(spec.id, error) : end('subscribe-failed'),
      );
    events.open(from);
  });
  source.onmessage = (event) => {
    const message = data(event);
    if (isWireMessage(message)) events.message(message);
    else malformed('an event message');
  };
  source.addEventListener('caught-up', (event) => {
    const ids = (data(event) as { subscriptions?: unknown } | undefined)?.subscriptions;
    if (isStringArray(ids)) events.caughtUp(ids);
    else malformed('caught-up');
  });
  source.addEventListener('expiring', () => {
    void control('POST', 'refresh').catch(() => end('refresh-failed'));
  });
  source.addEventListener('expired', () => end('expired'));
  source.addEventListener('reconnect', () => end('reconnect'));
  source.onerror = () => end('error');

  async function control(method: string, path: string, body?: unknown): Promise<void> {
    await isReady;
    if (ended) return;
    const response = await fetch(
      new URL(`/v1/stream/${encodeURIComponent(connectionId!)}/${path}`, hub),
      {
        method,
        headers: {
          authorization: `Bearer ${await getToken()}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      },
    );
    // 409: already there (e.g. added twice during a reconnect); 404 on delete: already gone.
    if (
      !response.ok &&
      response.status !== 409 &&
      !(method === 'DELETE' && response.status === 404)
    )
      throw new ShellError(
        'http',
        `${method} ${path}: the hub answered ${response.status}`,
        response.status,
      );
  }

  return {
    add: (spec: HubSpec, replay: Replay) =>
      control('POST', 'subscriptions', { ...spec, ...replay }),
    remove: (id: string) => control('DELETE', `subscriptions/${encodeURIComponent(id)}`),
    close() {
      ended = true;
      source.close();
    },
  };
}
