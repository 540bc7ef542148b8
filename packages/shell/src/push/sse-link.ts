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
  const minted = await mintTicket(hub, getToken, options.signal);
  url.searchParams.set('ticket', minted.ticket);
  const fresh = options.from === undefined;
  const from = options.from ?? minted.position;
  // On a fresh stream, `last` subscriptions join after `ready` with their own replay; the
  // rest resume from the ticket's position, so nothing since minting is missed. Only those
  // the hub accepted before go in the URL: one it refuses there fails the whole stream (and
  // EventSource cannot say which), so the others join after `ready`, resumed after `from`.
  const recent = fresh ? options.initial.filter((w) => w.last !== undefined) : [];
  const resumed = options.initial.filter((w) => !recent.includes(w) && w.proven);
  const unproven = options.initial.filter((w) => !recent.includes(w) && !w.proven);
  if (resumed.length > 0)
    url.searchParams.set('subscriptions', JSON.stringify(resumed.map((w) => w.spec)));
  if (from !== undefined) url.searchParams.set('from', String(from));

  const source = new EventSource(url);
  const queues = new Map<string, Promise<void>>();
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

  // Asked now, sent once the hub is ready: a removal asked meanwhile queues behind them.
  for (const { spec, last } of recent) join(spec, { last });
  for (const { spec } of unproven) join(spec, from !== undefined ? { from } : {});

  /**
   * A subscription's control requests, one after the other: a DELETE sent while its POST is
   * still on its way could arrive first (404, ignored) and leave it on the stream for good.
   */
  function inOrder(id: string, request: () => Promise<void>): Promise<void> {
    const next = (queues.get(id) ?? Promise.resolve()).catch(() => {}).then(request);
    queues.set(id, next);
    void next
      .catch(() => {})
      .then(() => {
        if (queues.get(id) === next) queues.delete(id);
      });
    return next;
  }

  /** A subscription of `initial` that joins after `ready`: refused alone, or the link ends. */
  function join(spec: HubSpec, replay: Replay): void {
    inOrder(spec.id, () => control('POST', 'subscriptions', { ...spec, ...replay })).then(
      () => {
        if (!ended) events.accepted(spec.id);
      },
      (error: unknown) =>
        isRefusal(error) ? events.refused(spec.id, error) : end('subscribe-failed'),
    );
  }

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
      inOrder(spec.id, () => control('POST', 'subscriptions', { ...spec, ...replay })),
    remove: (id: string) =>
      inOrder(id, () => control('DELETE', `subscriptions/${encodeURIComponent(id)}`)),
    close() {
      ended = true;
      source.close();
    },
  };
}
