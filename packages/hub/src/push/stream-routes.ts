/**
 * HTTP routes of push: the SSE stream, stream tickets, the per-connection control
 * endpoints (add / list / remove subscriptions, refresh the credential) and the WebSocket
 * path's answer to a plain GET. The stream itself authenticates (ticket or bearer), so it
 * is declared public; every other route needs `events:read` through the normal auth hook.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { Authenticator } from '../auth/principal.ts';
import type { FieldError } from '../http/problem.ts';
import { problems } from '../http/problem.ts';
import type { HubServer } from '../http/server.ts';
import { PushError, pushErrorToProblem } from './push-error.ts';
import type { PushGateway } from './push-gateway.ts';
import { SseTransport } from './sse-transport.ts';
import { admitStream } from './stream-auth.ts';
import {
  channelSubscriptionId,
  duplicateIdErrors,
  MAX_LAST,
  MAX_TOPIC_PATTERN_LENGTH,
  parseSubscriptionList,
  parseSubscriptionSpec,
  replayOptions,
  SUBSCRIPTION_ID,
  type SubscriptionSpec,
} from './subscription-spec.ts';
import { TicketLimitError, type TicketStore } from './ticket-store.ts';
import { WS_PATH } from './ws-endpoint.ts';

export type StreamRouteDeps = {
  gateway: PushGateway;
  tickets: TicketStore;
  authenticator: Authenticator;
  retryMs: number;
};

const TAGS = ['push'];
const ConnectionParams = Type.Object({
  connectionId: Type.String({ minLength: 1, maxLength: 64 }),
});
const SubscriptionBody = Type.Object(
  {
    id: Type.String({
      pattern: SUBSCRIPTION_ID.source,
      description: 'Echoed on every message it matches',
    }),
    topic: Type.Optional(
      Type.String({
        maxLength: MAX_TOPIC_PATTERN_LENGTH,
        description: 'Topic pattern: `*` one segment, `>` the rest (give this or channel)',
      }),
    ),
    channel: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          "A routing rule's push channel (its copies' topic portico.<env>.push.<channel>); give this or topic",
      }),
    ),
    filter: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'EventBridge content filter on the CloudEvent',
      }),
    ),
    from: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'Replay events after this position, then go live',
      }),
    ),
    last: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_LAST,
        description:
          'Instead of from: replay the last N matching events, then go live (their messages carry no SSE id)',
      }),
    ),
  },
  { additionalProperties: false },
);
const SubscriptionView = Type.Object({
  id: Type.String(),
  topic: Type.String(),
  channel: Type.Optional(Type.String()),
  filter: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  replaying: Type.Boolean({
    description: 'True while the subscription is still replaying the log',
  }),
});

export function registerStreamRoutes(server: HubServer, deps: StreamRouteDeps): void {
  const { gateway, tickets } = deps;
  const rethrow = (error: unknown): never => {
    throw error instanceof PushError ? pushErrorToProblem(error) : error;
  };

  server.get(
    '/v1/stream',
    {
      config: { public: true },
      schema: {
        summary: 'Server-Sent Events stream of the subscribed topics',
        description:
          'Authenticate with `Authorization: Bearer` or a single-use `ticket` (POST /v1/stream/tickets). ' +
          'Subscriptions: `topic` (repeatable; the id is the pattern), `channel` (repeatable; a push ' +
          'channel of routing rules, id `channel:<name>`) and/or `subscriptions` ' +
          '(JSON array of {id, topic or channel, filter, last}); more can be added with POST /v1/stream/{connectionId}/subscriptions. ' +
          'Resume with `Last-Event-ID` or `from`. The response is text/event-stream (see the push README).',
        tags: TAGS,
        security: [{ bearer: ['events:read'] }, {}],
        querystring: Type.Object({
          ticket: Type.Optional(
            Type.String({ maxLength: 256, description: 'Single-use stream ticket' }),
          ),
          topic: Type.Optional(
            Type.Array(Type.String({ maxLength: MAX_TOPIC_PATTERN_LENGTH }), { maxItems: 256 }),
          ),
          channel: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 256 })),
          subscriptions: Type.Optional(
            Type.String({
              maxLength: 64 * 1024,
              description: 'JSON array of {id, topic or channel, filter, last}',
            }),
          ),
          from: Type.Optional(
            Type.Integer({
              minimum: 0,
              // Larger numbers are not positions: they were rounded (9007199254740993 read as
              // …992), as WebSocket `from` and the control endpoint already refuse.
              maximum: Number.MAX_SAFE_INTEGER,
              description: 'Replay after this position (Last-Event-ID wins)',
            }),
          ),
        }),
      },
    },
    async (request, reply) => {
      const { ticket, topic = [], channel = [], subscriptions, from } = request.query;
      // Checked before the credential: a single-use ticket is not spent on a request that
      // cannot succeed (as the WebSocket handshake does).
      const specs = parseStreamSubscriptions(topic, channel, subscriptions);
      const resumeFrom = lastEventId(request.headers['last-event-id']) ?? from;
      await admitStream({ authorization: request.headers.authorization, ticket }, deps, {
        check: (principal) => gateway.precheck(principal, specs.length),
        open: (principal) => openStream(reply, deps, principal, specs, resumeFrom, request.id),
      }).catch(rethrow);
    },
  );

  server.post(
    '/v1/stream/tickets',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'Mint a single-use stream ticket (for EventSource and browser WebSockets)',
        tags: TAGS,
        response: {
          201: Type.Object({
            ticket: Type.String({
              description: 'Pass as ?ticket= on /v1/stream or /v1/ws; usable once',
            }),
            expiresAt: Type.String({ format: 'date-time' }),
            position: Type.Integer({
              description:
                "The log's newest position when the ticket was minted: open the stream with from=position to miss nothing in between",
            }),
          }),
        },
      },
    },
    async (request, reply) => {
      try {
        const [{ ticket, expiresAt }, position] = await Promise.all([
          tickets.issue(request.principal),
          gateway.logEnd(),
        ]);
        return reply
          .code(201)
          .header('cache-control', 'no-store')
          .send({
            ticket,
            expiresAt: new Date(expiresAt).toISOString(),
            position,
          });
      } catch (error) {
        if (error instanceof TicketLimitError) rethrow(new PushError('limit', error.message));
        throw error;
      }
    },
  );

  server.get(
    '/v1/stream/:connectionId/subscriptions',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "A push connection's subscriptions",
        tags: TAGS,
        params: ConnectionParams,
        response: {
          200: Type.Object({
            connectionId: Type.String(),
            subscriptions: Type.Array(SubscriptionView),
          }),
        },
      },
    },
    async (request) => {
      const connection = findOrThrow(gateway, request.params.connectionId, request.principal);
      return {
        connectionId: connection.id,
        subscriptions: [...connection.subscriptions.values()].map((sub) => ({
          id: sub.id,
          topic: sub.topic,
          ...(sub.channel !== undefined ? { channel: sub.channel } : {}),
          ...(sub.filterPattern ? { filter: sub.filterPattern } : {}),
          replaying: sub.replay !== undefined,
        })),
      };
    },
  );

  server.post(
    '/v1/stream/:connectionId/subscriptions',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'Add a subscription to an open stream (e.g. for a late-mounting micro-frontend)',
        tags: TAGS,
        params: ConnectionParams,
        body: SubscriptionBody,
        response: { 201: SubscriptionView },
      },
    },
    async (request, reply) => {
      const parsed = parseSubscriptionSpec(request.body);
      if (!parsed.ok) throw problems.validation('the subscription is invalid', parsed.errors);
      const { spec } = parsed;
      const connection = findOrThrow(gateway, request.params.connectionId, request.principal);
      try {
        gateway.subscribe(connection, [spec], replayOptions(spec));
      } catch (error) {
        rethrow(error);
      }
      connection.control('subscribed', { id: spec.id });
      return reply.code(201).send({
        id: spec.id,
        topic: spec.topic,
        ...(spec.channel !== undefined ? { channel: spec.channel } : {}),
        ...(spec.filter ? { filter: spec.filter } : {}),
        replaying: spec.from !== undefined || spec.last !== undefined,
      });
    },
  );

  server.delete(
    '/v1/stream/:connectionId/subscriptions/:subscriptionId',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'Remove a subscription from an open stream',
        tags: TAGS,
        params: Type.Object({
          connectionId: Type.String({ minLength: 1, maxLength: 64 }),
          subscriptionId: Type.String({ minLength: 1, maxLength: 128 }),
        }),
      },
    },
    async (request, reply) => {
      const { connectionId, subscriptionId } = request.params;
      const connection = findOrThrow(gateway, connectionId, request.principal);
      if (!gateway.unsubscribe(connection, subscriptionId))
        throw problems.notFound(`no subscription "${subscriptionId}" on this connection`);
      connection.control('unsubscribed', { id: subscriptionId });
      return reply.code(204).send();
    },
  );

  server.post(
    '/v1/stream/:connectionId/refresh',
    {
      config: { scope: 'events:read' },
      schema: {
        summary:
          "Extend an open stream with a fresh token (the caller's) before the old one expires",
        tags: TAGS,
        params: ConnectionParams,
        response: { 200: Type.Object({ expiresAt: Type.String({ format: 'date-time' }) }) },
      },
    },
    async (request) => {
      const connection = findOrThrow(gateway, request.params.connectionId, request.principal);
      try {
        gateway.refresh(connection, request.principal);
      } catch (error) {
        rethrow(error);
      }
      return { expiresAt: new Date(request.principal.expiresAt * 1000).toISOString() };
    },
  );

  server.get(
    WS_PATH,
    {
      config: { public: true },
      schema: {
        summary: 'WebSocket push endpoint (upgrade only)',
        description:
          'Open with a WebSocket handshake, authenticated by `Authorization: Bearer` or `?ticket=`. ' +
          'JSON messages: subscribe, unsubscribe, refresh, ping (see the push README).',
        tags: TAGS,
      },
    },
    async (_request, reply) =>
      reply
        .code(426)
        .header('upgrade', 'websocket')
        .type('application/problem+json')
        .send({
          type: 'urn:portico:problem:upgrade-required',
          title: 'Upgrade required',
          status: 426,
          detail: `${WS_PATH} speaks WebSocket only; open it with a WebSocket client`,
        }),
  );
}

/**
 * The caller's SSE connection. A WebSocket's id answers 404 like an unknown one: a socket
 * changes its subscriptions in band, where its client tracks them (refs, resubscribing on
 * reconnect); one added here would arrive unasked for and be lost on the next reconnect.
 */
function findOrThrow(
  gateway: PushGateway,
  connectionId: string,
  principal: Parameters<PushGateway['find']>[1],
) {
  try {
    return gateway.find(connectionId, principal, 'sse');
  } catch (error) {
    throw error instanceof PushError ? pushErrorToProblem(error) : error;
  }
}

function openStream(
  reply: FastifyReply,
  deps: StreamRouteDeps,
  principal: Parameters<PushGateway['open']>[0],
  specs: SubscriptionSpec[],
  from: number | undefined,
  requestId: string,
): void {
  // From here on the response is ours: Fastify neither serialises nor ends it.
  reply.hijack();
  // The client may have left while its credential was checked: its response has already
  // emitted 'close', so a stream opened now would never learn that it ended (a leaked
  // connection, which also held the hub's shutdown forever). A response queued behind
  // another on a pipelined connection is not marked destroyed: its socket is.
  if (reply.raw.destroyed || reply.raw.req.socket.destroyed) return;
  const transport = new SseTransport(reply.raw, { retryMs: deps.retryMs, requestId });
  const { gateway } = deps;
  const connection = gateway.open(principal, transport);
  connection.control('ready', {
    connectionId: connection.id,
    subscriptions: specs.map((spec) => spec.id),
    expiresAt: new Date(principal.expiresAt * 1000).toISOString(),
    heartbeatSeconds: gateway.limits.heartbeatMs / 1000,
  });
  // Synchronous after the precheck, so the limits cannot have changed in between.
  // A fresh stream replays each `last` subscription on its own (no ids: not a resume point);
  // a resumed one (from / Last-Event-ID) resumes them with the rest.
  const recent = from === undefined ? specs.filter((spec) => spec.last !== undefined) : [];
  gateway.subscribe(
    connection,
    specs.filter((spec) => !recent.includes(spec)),
    { ...(from !== undefined ? { from } : {}), primary: true },
  );
  for (const spec of recent) gateway.subscribe(connection, [spec], { last: spec.last! });
}

/**
 * `topic=` patterns (id = the pattern), `channel=` push channels (id = `channel:<name>`)
 * plus the `subscriptions=` JSON list.
 */
function parseStreamSubscriptions(
  topics: string[],
  channels: string[],
  subscriptions: string | undefined,
): SubscriptionSpec[] {
  const specs: SubscriptionSpec[] = [];
  const errors: FieldError[] = [];
  topics.forEach((topic, index) => {
    const result = parseSubscriptionSpec({ id: topic, topic });
    if (result.ok) specs.push(result.spec);
    else
      errors.push({
        pointer: `/topic/${index}`,
        in: 'query',
        detail: result.errors.some((e) => e.pointer === '/topic')
          ? result.errors.find((e) => e.pointer === '/topic')!.detail
          : 'as its own subscription id a pattern may be at most 128 characters; use subscriptions= with an explicit id',
      });
  });
  channels.forEach((channel, index) => {
    const result = parseSubscriptionSpec({ id: channelSubscriptionId(channel), channel });
    if (result.ok) specs.push(result.spec);
    else
      errors.push({
        pointer: `/channel/${index}`,
        in: 'query',
        detail: (result.errors.find((e) => e.pointer === '/channel') ?? result.errors[0]!).detail,
      });
  });
  if (subscriptions !== undefined) {
    let list: unknown;
    try {
      list = JSON.parse(subscriptions);
    } catch {
      throw problems.validation('query parameter subscriptions is not valid JSON', [
        { pointer: '/subscriptions', detail: 'must be a JSON array', in: 'query' },
      ]);
    }
    const result = parseSubscriptionList(list, { pointer: '/subscriptions', in: 'query' });
    if (result.ok) {
      for (const [index, spec] of result.specs.entries()) {
        if (spec.from !== undefined)
          errors.push({
            pointer: `/subscriptions/${index}/from`,
            detail: 'a stream resumes as a whole: use the from parameter or Last-Event-ID',
            in: 'query',
          });
        specs.push(spec);
      }
    } else errors.push(...result.errors);
  }
  errors.push(...duplicateIdErrors(specs, { pointer: '/subscriptions', in: 'query' }));
  if (errors.length > 0) {
    const first = errors[0]!;
    throw problems.validation(
      `the stream's subscriptions are invalid: ${first.pointer} ${first.detail}`,
      errors,
    );
  }
  return specs;
}

/** The browser sends back the last `id:` it saw; ours are log positions. */
function lastEventId(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value))
    throw problems.validation('Last-Event-ID must be a position the stream sent', [
      { pointer: '/last-event-id', detail: 'must be a non-negative integer', in: 'header' },
    ]);
  return Number(value);
}
